// A small Markdown renderer for model replies: paragraphs, headings, lists, block quotes, rules,
// bold, italic, inline code and fenced code blocks. Every piece of text is HTML-escaped before
// any tag is added, so the only markup in the result is the markup made here.
"use strict";

function escapeHtml(text) {
  const entities = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  return text.replace(/[&<>"']/g, (c) => entities[c]);
}

// Spans inside a block of raw text: `code`, **bold**, __bold__, *italic*, _italic_; newlines
// become <br>.
function renderInline(text) {
  return escapeHtml(text)
    .split(/(`[^`\n]+`)/)
    .map((part, i) => {
      if (i % 2 === 1) return "<code>" + part.slice(1, -1) + "</code>";
      return part
        .replace(/\*\*(?=\S)(.+?)(?<=\S)\*\*/g, "<strong>$1</strong>")
        .replace(/(^|[^\w])__(?=\S)(.+?)(?<=\S)__(?!\w)/g, "$1<strong>$2</strong>")
        .replace(/(^|[^*\w])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![*\w])/g, "$1<em>$2</em>")
        .replace(/(^|[^\w])_(?=[^\s_])(.+?)(?<=[^\s_])_(?!\w)/g, "$1<em>$2</em>")
        .replace(/\n/g, "<br>");
    })
    .join("");
}

// Nested <ul>/<ol> from items {indent, tag, start, text}: a deeper indent opens a list inside
// the open item.
function renderList(items) {
  let html = "";
  const open = []; // the lists open, outermost first: {indent, tag}
  for (const item of items) {
    while (open.length > 1 && item.indent < open[open.length - 1].indent)
      html += `</li></${open.pop().tag}>`;
    const top = open[open.length - 1];
    if (top && item.indent <= top.indent && item.tag === top.tag) {
      html += "</li>";
    } else {
      if (top && item.indent <= top.indent) html += `</li></${open.pop().tag}>`;
      const start = item.tag === "ol" && item.start !== 1 ? ` start="${item.start}"` : "";
      html += `<${item.tag}${start}>`;
      open.push({ indent: item.indent, tag: item.tag });
    }
    html += "<li>" + renderInline(item.text);
  }
  while (open.length) html += `</li></${open.pop().tag}>`;
  return html;
}

function renderMarkdown(text) {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const out = [];
  let paragraph = []; // lines of the paragraph being read
  let list = []; // items of the list being read
  let quote = []; // lines of the block quote being read
  const flush = () => {
    if (paragraph.length) out.push("<p>" + renderInline(paragraph.join("\n")) + "</p>");
    if (list.length) out.push(renderList(list));
    if (quote.length) out.push("<blockquote>" + renderMarkdown(quote.join("\n")) + "</blockquote>");
    paragraph = [];
    list = [];
    quote = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    let m;
    if ((m = line.match(/^\s*(`{3,}|~{3,})\s*([\w+#.-]*)/))) {
      // A fence runs to its closing fence, or to the end of a reply still streaming.
      flush();
      const close = new RegExp(`^\\s*${m[1][0]}{${m[1].length},}\\s*$`);
      const code = [];
      for (i++; i < lines.length && !close.test(lines[i]); i++) code.push(lines[i]);
      const lang = m[2] ? ` class="language-${escapeHtml(m[2])}"` : "";
      out.push(`<pre><code${lang}>${escapeHtml(code.join("\n"))}</code></pre>`);
    } else if ((m = line.match(/^\s{0,3}(#{1,6})\s+(.*?)(\s+#+)?\s*$/))) {
      flush();
      out.push(`<h${m[1].length}>${renderInline(m[2])}</h${m[1].length}>`);
    } else if (/^\s{0,3}([-*_])(\s*\1){2,}\s*$/.test(line)) {
      flush();
      out.push("<hr>");
    } else if ((m = line.match(/^\s*>\s?(.*)$/))) {
      if (!quote.length) flush();
      quote.push(m[1]);
    } else if ((m = line.match(/^(\s*)([-*+]|(\d{1,9})[.)])\s+(.*)$/))) {
      if (!list.length) flush();
      const tag = m[3] === undefined ? "ul" : "ol";
      list.push({ indent: m[1].length, tag, start: Number(m[3]), text: m[4] });
    } else if (line.trim() === "") {
      if (!list.length) flush(); // a list goes on past blank lines between its items
    } else if (list.length && /^\s/.test(line)) {
      list[list.length - 1].text += "\n" + line.trim(); // an item's indented next line
    } else {
      if (list.length || quote.length) flush();
      paragraph.push(line);
    }
  }
  flush();
  return out.join("\n");
}
