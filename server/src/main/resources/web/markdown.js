// A deliberately small Markdown renderer for model output. Everything is HTML-escaped first, so
// no markup from the model can reach the page; only the constructs below are turned into tags.

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

function inline(escaped) {
  return escaped
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    .replace(/(^|[^*])\*([^*\s][^*]*)\*/g, '$1<em>$2</em>')
    // Links only to http(s): the URL was escaped above, so it cannot close the attribute.
    .replace(/\[([^\]]+)\]\((https?:\/\/[^\s)]+)\)/g, '<a href="$2" rel="noopener noreferrer" target="_blank">$1</a>');
}

export function renderMarkdown(source) {
  const lines = source.split('\n');
  const html = [];
  let paragraph = [];
  let list = null;
  let code = null;
  const flushParagraph = () => {
    if (paragraph.length) html.push('<p>' + paragraph.map((l) => inline(escapeHtml(l))).join('<br>') + '</p>');
    paragraph = [];
  };
  const flushList = () => {
    if (list) html.push(`<${list.tag}>` + list.items.map((i) => '<li>' + inline(escapeHtml(i)) + '</li>').join('') + `</${list.tag}>`);
    list = null;
  };
  for (const line of lines) {
    if (code !== null) {
      if (line.trim().startsWith('```')) {
        html.push('<pre><code>' + escapeHtml(code.join('\n')) + '</code></pre>');
        code = null;
      } else {
        code.push(line);
      }
      continue;
    }
    if (line.trim().startsWith('```')) {
      flushParagraph(); flushList();
      code = [];
      continue;
    }
    const bullet = line.match(/^\s*[-*]\s+(.*)$/);
    const numbered = line.match(/^\s*\d+[.)]\s+(.*)$/);
    if (bullet || numbered) {
      flushParagraph();
      const tag = bullet ? 'ul' : 'ol';
      if (!list || list.tag !== tag) { flushList(); list = { tag, items: [] }; }
      list.items.push((bullet || numbered)[1]);
    } else if (line.trim() === '') {
      flushParagraph(); flushList();
    } else {
      flushList();
      paragraph.push(line);
    }
  }
  if (code !== null) html.push('<pre><code>' + escapeHtml(code.join('\n')) + '</code></pre>');
  flushParagraph(); flushList();
  return html.join('');
}
