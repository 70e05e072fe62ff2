/**
 * @module ui/layout
 * The frame of the hosted pages (login, consent, errors of the authorization
 * flow): one inline style sheet (allowed by its hash), nothing external,
 * readable on a phone, labelled form fields.
 */
import { escapeHtml } from "../lib/html";

export const PAGE_STYLE = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;color:#1d2330}
main{max-width:26rem;margin:8vh auto;padding:2rem 1.5rem;background:#fff;border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1.4rem;margin:0 0 1rem}
p{margin:.5rem 0 1rem}
label{display:block;font-weight:600;margin:1rem 0 .25rem}
input{width:100%;padding:.65rem .75rem;font:inherit;border:1px solid #b8bfcc;border-radius:8px}
input:focus{outline:3px solid #9cc3ff;border-color:#2f6fde}
button{width:100%;margin-top:1.25rem;padding:.7rem;font:inherit;font-weight:600;border:0;border-radius:8px;background:#2f6fde;color:#fff;cursor:pointer}
button.secondary{background:#e7eaf0;color:#1d2330}
.row{display:flex;gap:.75rem}.row button{flex:1}
.error{padding:.6rem .75rem;border-radius:8px;background:#fdecec;color:#8a1c1c}
.muted{color:#5b6476;font-size:.9rem}
ul.scopes{padding-left:1.2rem}ul.scopes li{margin:.35rem 0}
.client{display:flex;align-items:center;gap:.75rem}.client img{width:40px;height:40px;border-radius:8px}
a{color:#2f6fde}
.code{font:600 1.6rem/1.2 ui-monospace,SFMono-Regular,Menlo,monospace;letter-spacing:.15em;text-align:center;padding:.6rem;border:1px dashed #b8bfcc;border-radius:8px}
.warning{padding:.6rem .75rem;border-radius:8px;background:#fff4d6;color:#5c4300}
`;

export function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${PAGE_STYLE}</style></head>
<body><main>${body}</main></body></html>`;
}
