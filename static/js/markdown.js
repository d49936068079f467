// Markdown for an answer while it streams, by the server's rules (core/markdown.py: markdown-it's
// CommonMark with `breaks`, then nh3's allow-list); when the answer is done the server's HTML replaces it.
// It builds DOM nodes, never an HTML string: the text only ever becomes text nodes, the elements are a
// subset of nh3's allowed tags, and the only attributes are href (http, https, mailto or relative, as
// nh3 keeps), title, rel and ol's start. Markers not closed yet at the end of a streaming answer
// (`**bold so fa`) open to the end instead of showing as raw asterisks.

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const SETEXT = /^ {0,3}(=+|-+)[ \t]*$/;
const RULE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const QUOTE = /^ {0,3}> ?(.*)$/;
const ITEM = /^ {0,3}([-+*]|(\d{1,9})[.)])(?:[ \t]+(.*))?$/;
const BLANK = /^[ \t]*$/;
const PUNCT = /[!-/:-@[-`{-~]/;
const ENTITY = /^&(?:#(\d{1,7})|#[xX]([\da-fA-F]{1,6})|(amp|lt|gt|quot|nbsp|copy));/;
const ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', nbsp: "\u00a0", copy: "\u00a9" };

const add = (parent, tag, text) => {
  const node = parent.appendChild(document.createElement(tag));
  if (text !== undefined) node.textContent = text;
  return node;
};

// What interrupts a paragraph (CommonMark): a fence, heading, rule, quote, or a list item that has
// content (an ordered one only if it starts at 1).
const interrupts = (line) => {
  const item = line.match(ITEM);
  return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line)
    || (item && item[3] && (!item[2] || +item[2] === 1));
};

function blocks(lines, parent, tail, tight) {
  let i = 0;
  const last = () => tail && lines.slice(i).every((line) => BLANK.test(line));
  while (i < lines.length) {
    const line = lines[i];
    let m;
    if (BLANK.test(line)) {
      i++;
    } else if ((m = line.match(FENCE))) {
      const end = new RegExp(`^ {0,3}${m[1][0] === "`" ? "`" : "~"}{${m[1].length},}[ \\t]*$`);
      const code = [];
      for (i++; i < lines.length && !end.test(lines[i]); i++) code.push(lines[i]);
      i++;
      add(add(parent, "pre"), "code", code.length ? `${code.join("\n")}\n` : "");
    } else if ((m = line.match(HEADING))) {
      i++;
      inline(m[2] || "", add(parent, `h${m[1].length}`), last());
    } else if (RULE.test(line)) {
      add(parent, "hr");
      i++;
    } else if (QUOTE.test(line)) {
      const inner = [];
      for (; i < lines.length && (m = lines[i].match(QUOTE)); i++) inner.push(m[1]);
      blocks(inner, add(parent, "blockquote"), last());
    } else if ((m = line.match(ITEM))) {
      i = list(lines, i, m, parent, tail);
    } else {
      const text = [line.trim()];
      let heading = null;
      for (i++; i < lines.length && !BLANK.test(lines[i]); i++) {
        if ((heading = lines[i].match(SETEXT))) { i++; break; }
        if (interrupts(lines[i])) break;
        text.push(lines[i].trim());
      }
      const into = heading ? add(parent, heading[1][0] === "=" ? "h1" : "h2") : tight ? parent : add(parent, "p");
      inline(text.join("\n"), into, last());
    }
  }
}

function list(lines, i, first, parent, tail) {
  const ordered = Boolean(first[2]);
  const node = add(parent, ordered ? "ol" : "ul");
  if (ordered && +first[2] !== 1) node.setAttribute("start", String(+first[2]));
  const kind = first[1].slice(-1);
  const items = [];
  let gap = false;
  let loose = false;
  let offset = 2;  // where the current item's content starts: deeper lines belong to it
  for (; i < lines.length; i++) {
    const line = lines[i];
    const m = line.match(ITEM);
    const indent = line.match(/^[ \t]*/)[0].length;
    if (items.length && indent >= offset && !BLANK.test(line)) {
      if (gap) { loose = true; items.at(-1).push(""); }
      items.at(-1).push(line.slice(offset));
      gap = false;
    } else if (m && !RULE.test(line) && Boolean(m[2]) === ordered && m[1].slice(-1) === kind) {
      offset = m[3] ? m[0].length - m[3].length : m[0].length + 1;
      if (gap && items.length) loose = true;
      items.push([m[3] || ""]);
      gap = false;
    } else if (BLANK.test(line)) {
      gap = true;
    } else if (!gap && !interrupts(line)) {
      items.at(-1).push(line.trim());  // a paragraph's lazy continuation
    } else {
      break;
    }
  }
  const rest = lines.slice(i).every((line) => BLANK.test(line));
  items.forEach((item, n) => blocks(item, add(node, "li"), tail && rest && n === items.length - 1, !loose));
  return i;
}

// A run of `*` or `_` at `from` that can close emphasis of `size`, or -1.
function closer(text, from, char, size) {
  for (let i = from; i < text.length; i++) {
    if (text[i] === "\\") { i++; continue; }
    if (text[i] === "`") {
      const run = text.slice(i).match(/^`+/)[0];
      const end = text.indexOf(run, i + run.length);
      if (end > 0) i = end + run.length - 1;
      continue;
    }
    if (text[i] !== char) continue;
    const run = text.slice(i).match(char === "*" ? /^\*+/ : /^_+/)[0];
    const after = text[i + run.length] || " ";
    if (!/\s/.test(text[i - 1]) && (char === "*" || !/\w/.test(after)) && (size === 2 ? run.length >= 2 : run.length !== 2)) {
      return i + run.length - size;
    }
    i += run.length - 1;
  }
  return -1;
}

// `[label](destination "title")` at `at`: the parts and where it ends, or null.
function linkAt(text, at) {
  let depth = 0;
  let i = at;
  for (; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === "[") depth++;
    else if (text[i] === "]" && --depth === 0) break;
  }
  const m = text.slice(i + 1).match(/^\(\s*(?:<([^<>\n]*)>|((?:[^\s()]|\([^\s()]*\))*))(?:\s+"([^"]*)"|\s+'([^']*)')?\s*\)/);
  if (i >= text.length || !m) return null;
  return { label: text.slice(at + 1, i), href: m[1] ?? m[2], title: m[3] ?? m[4], end: i + 1 + m[0].length };
}

const SCHEME = /^([a-z][a-z0-9+.-]*):/i;

// The link as nh3 leaves it: href only for http, https, mailto or a relative URL. Null for what
// markdown-it refuses to link at all (javascript:, vbscript:, file:, data:, and anything with control
// characters or spaces, which browsers would strip before reading the scheme).
function anchor(parent, href, title) {
  const scheme = href.match(SCHEME)?.[1].toLowerCase();
  if (/[\x00-\x20\x7f-\x9f]/.test(href) || ["javascript", "vbscript", "file", "data"].includes(scheme)) return null;
  const a = add(parent, "a");
  if (!scheme || ["http", "https", "mailto"].includes(scheme)) a.setAttribute("href", href);
  if (title) a.setAttribute("title", title);
  a.setAttribute("rel", "nofollow noopener noreferrer");
  return a;
}

function inline(text, parent, open) {
  let plain = "";
  const flush = () => { if (plain) parent.append(plain); plain = ""; };
  for (let i = 0; i < text.length;) {
    const c = text[i];
    const rest = text.slice(i);
    let m;
    if (c === "\\" && PUNCT.test(text[i + 1] || "")) {
      plain += text[i + 1];
      i += 2;
    } else if (c === "&" && (m = rest.match(ENTITY))) {
      plain += m[3] ? ENTITIES[m[3]] : String.fromCodePoint(parseInt(m[1] ?? m[2], m[1] ? 10 : 16) || 0xfffd);
      i += m[0].length;
    } else if (c === "\n") {
      plain = plain.replace(/ +$/, "");
      flush();
      add(parent, "br");
      for (i++; text[i] === " "; i++);
    } else if (c === "`") {
      const run = rest.match(/^`+/)[0];
      let end = text.indexOf(run, i + run.length);
      while (end > 0 && text[end + run.length] === "`") end = text.indexOf(run, end + run.length + 1);
      if (end < 0 && !open) { plain += run; i += run.length; continue; }
      flush();
      let code = text.slice(i + run.length, end < 0 ? undefined : end).replace(/\n/g, " ");
      if (/^ .*[^ ].* $/.test(code)) code = code.slice(1, -1);
      add(parent, "code", code);
      i = end < 0 ? text.length : end + run.length;
    } else if ((m = rest.match(/^<((?:https?|mailto):[^\s<>]*)>/i))) {
      flush();
      const a = anchor(parent, m[1]);
      if (a) a.textContent = m[1];
      else plain += m[0];
      i += m[0].length;
    } else if (c === "!" && text[i + 1] === "[" && (m = linkAt(text, i + 1))) {
      i = m.end;  // an image: nh3 removes it, alt text and all
    } else if (c === "[" && (m = linkAt(text, i)) && (flush(), (m.a = anchor(parent, m.href, m.title)))) {
      inline(m.label, m.a, false);
      i = m.end;
    } else if (c === "*" || c === "_") {
      const run = rest.match(c === "*" ? /^\*+/ : /^_+/)[0];
      const size = run.length >= 2 ? 2 : 1;
      const next = text[i + size];
      const end = next && !/\s/.test(next) && !(c === "_" && /\w/.test(text[i - 1] || "")) ? closer(text, i + size, c, size) : -1;
      if (end > i + size || (open && end < 0 && next && !/\s/.test(next))) {
        flush();
        inline(text.slice(i + size, end < 0 ? undefined : end), add(parent, size === 2 ? "strong" : "em"), open && end < 0);
        i = end < 0 ? text.length : end + size;
      } else if (open && i + run.length === text.length) {
        i += run.length;  // the start of a marker that is still arriving
      } else {
        plain += run;
        i += run.length;
      }
    } else {
      plain += c;
      i++;
    }
  }
  flush();
}

/** Render Markdown `text` into `target`, replacing its content. `streaming`: the text may end midway. */
export function renderMarkdown(target, text, streaming = false) {
  const root = document.createDocumentFragment();
  blocks(text.replace(/\r\n?/g, "\n").split("\n"), root, streaming);
  target.replaceChildren(root);
}
