"""Rendering a report document to Markdown and to one self-contained, escaped HTML page.

A document is a list of blocks, rendered once per format so that both say the same:
('h', level, text) ('p', text) ('note', text) ('list', [text]) ('table', caption, header, rows)
('img', file name, alt text, png bytes). Every text is plain and may come from the inputs (variant
names, error messages, grid descriptions): the Markdown escapes its syntax characters, the HTML
escapes everything with `html.escape`, embeds its CSS and plots (data: URLs) and loads nothing else.
"""
import base64
import html
import re

_CSS = """body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:76rem;margin:2rem auto;
padding:0 1rem;color:#1b1b1b;line-height:1.45}table{border-collapse:collapse;margin:.3rem 0 0;font-size:.9rem}
figure.table figcaption{font-style:italic;font-size:.9rem;color:#1b1b1b}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#f2f2f2}
tr:nth-child(even) td{background:#fafafa}img{max-width:100%;height:auto;border:1px solid #eee}
h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2.2rem}h3{margin-bottom:.3rem}
.scroll{overflow-x:auto}figure{margin:.5rem 0 1.5rem}figcaption{color:#555;font-size:.85rem}
.note{color:#555;font-style:italic}code{background:#f2f2f2;padding:0 .2rem}"""


def md_escape(text):
    text = ' '.join(str(text).split()).replace('\\', '\\\\')
    return re.sub(r'([`*\[\]<>|#])', r'\\\1', text)


def render_markdown(blocks):
    md = md_escape
    out = []
    for block in blocks:
        kind = block[0]
        if kind == 'h':
            out.append('#' * block[1] + ' ' + md(block[2]))
        elif kind == 'p':
            out.append(md(block[1]))
        elif kind == 'note':
            out.append(f'*{md(block[1])}*')
        elif kind == 'list':
            out += [f'- {md(item)}' for item in block[1]]
        elif kind == 'table':
            _, caption, header, rows = block
            out += [f'*{md(caption)}*', '', '| ' + ' | '.join(map(md, header)) + ' |', '|' + '---|' * len(header)]
            out += ['| ' + ' | '.join(md(c) or ' ' for c in row) + ' |' for row in rows]
        elif kind == 'img':
            out.append(f'![{md(block[2])}]({block[1]})')
        out.append('')
    return '\n'.join(out)


def render_html(blocks, title):
    e = html.escape
    body = []
    for block in blocks:
        kind = block[0]
        if kind == 'h':
            body.append(f'<h{block[1]}>{e(block[2])}</h{block[1]}>')
        elif kind == 'p':
            body.append(f'<p>{e(block[1])}</p>')
        elif kind == 'note':
            body.append(f'<p class="note">{e(block[1])}</p>')
        elif kind == 'list':
            body.append('<ul>' + ''.join(f'<li>{e(item)}</li>' for item in block[1]) + '</ul>')
        elif kind == 'table':
            _, caption, header, rows = block
            # the caption sits above the table, not in <caption>: that one is only as wide as its table
            body.append(f'<figure class="table"><figcaption>{e(caption)}</figcaption><div class="scroll"><table>'
                        '<thead><tr>' + ''.join(f'<th>{e(h)}</th>' for h in header) + '</tr></thead><tbody>'
                        + ''.join('<tr>' + ''.join(f'<td>{e(str(c))}</td>' for c in row) + '</tr>' for row in rows)
                        + '</tbody></table></div></figure>')
        elif kind == 'img':
            data = base64.b64encode(block[3]).decode('ascii')
            body.append(f'<figure><img src="data:image/png;base64,{data}" alt="{e(block[2])}">'
                        f'<figcaption>{e(block[2])} ({e(block[1])})</figcaption></figure>')
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{e(title)}</title>'
            f'<style>{_CSS}</style></head><body>\n' + '\n'.join(body) + '\n</body></html>\n')
