// The docs link check (npm run check:docs): every relative link, image and #anchor in the
// repository's Markdown files must resolve, offline. External links (http:, mailto:, …) are
// not followed: whether a website is up is not a property of this repository.
//
// Markdown is parsed by markdown-it (the CommonMark parser, so links inside code are not
// links) and headings are turned into anchors by github-slugger (GitHub's own algorithm,
// duplicates numbered -1, -2, …), so an anchor that passes here works on GitHub.
// Before checking the repository it checks fixtures/ and fails unless it finds exactly the
// broken links planted there: a checker that stopped seeing problems cannot pass.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import GithubSlugger from 'github-slugger';
import MarkdownIt from 'markdown-it';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
/** Folders that hold no documentation of the repository (build output, caches, fixtures). */
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'coverage', 'test-results', 'fixtures']);

const markdown = new MarkdownIt({ html: true });
const HTML_ATTRIBUTE = /\b(href|src|id|name)\s*=\s*"([^"]*)"/gi;
const SCHEME = /^[a-z][a-z0-9+.-]*:/i;
/** GitHub's anchors for lines of a file shown as code: #L10, #L10-L20. */
const LINE_ANCHOR = /^L\d+(-L\d+)?$/;

/** Every Markdown file under `dir`, skipping hidden folders and SKIPPED_DIRS. */
export function markdownFiles(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) found.push(...markdownFiles(full));
    } else if (entry.name.endsWith('.md')) {
      found.push(full);
    }
  }
  return found.sort();
}

/** The text GitHub makes a heading's anchor from: its inline content without the markup. */
function headingText(inline) {
  return (inline.children ?? [])
    .filter((token) => token.type === 'text' || token.type === 'code_inline')
    .map((token) => token.content)
    .join('');
}

/** The links and the anchors of one Markdown file. */
export function parseMarkdown(text) {
  const slugger = new GithubSlugger();
  const anchors = new Set();
  const links = [];
  const fromHtml = (html, line) => {
    for (const [, attribute, value] of html.matchAll(HTML_ATTRIBUTE)) {
      const name = attribute.toLowerCase();
      if (name === 'id' || name === 'name') anchors.add(value);
      else links.push({ target: value, line });
    }
  };
  const tokens = markdown.parse(text, {});
  let line = 1; // inline tokens of table cells carry no line: the row's is used
  tokens.forEach((token, index) => {
    if (token.map) line = token.map[0] + 1;
    if (token.type === 'heading_open') anchors.add(slugger.slug(headingText(tokens[index + 1])));
    if (token.type === 'html_block') fromHtml(token.content, line);
    if (token.type !== 'inline') return;
    for (const child of token.children ?? []) {
      if (child.type === 'link_open') links.push({ target: child.attrGet('href') ?? '', line });
      if (child.type === 'image') links.push({ target: child.attrGet('src') ?? '', line });
      if (child.type === 'html_inline') fromHtml(child.content, line);
    }
  });
  return { anchors, links };
}

/** Problems of the Markdown files `files`, as `file:line: message`, relative to `base`. */
export function checkFiles(files, base) {
  const parsed = new Map();
  const parse = (file) => {
    if (!parsed.has(file)) parsed.set(file, parseMarkdown(readFileSync(file, 'utf8')));
    return parsed.get(file);
  };
  const problems = [];
  let checked = 0;
  for (const file of files) {
    const where = (line) => `${path.relative(base, file)}:${line}`;
    for (const { target, line } of parse(file).links) {
      if (SCHEME.test(target) || target.startsWith('//')) continue;
      checked += 1;
      const hashAt = target.indexOf('#');
      const rawPath = hashAt === -1 ? target : target.slice(0, hashAt);
      const anchor = hashAt === -1 ? undefined : decodeURIComponent(target.slice(hashAt + 1));
      if (target === '') {
        problems.push(`${where(line)}: empty link`);
        continue;
      }
      const decoded = decodeURIComponent(rawPath);
      const resolved =
        decoded === ''
          ? file
          : decoded.startsWith('/')
            ? path.join(base, decoded)
            : path.resolve(path.dirname(file), decoded);
      if (path.relative(base, resolved).startsWith('..')) {
        problems.push(`${where(line)}: ${target} points outside the repository`);
        continue;
      }
      if (!existsSync(resolved)) {
        problems.push(`${where(line)}: ${target}: no such file or folder`);
        continue;
      }
      if (anchor === undefined) continue;
      if (resolved.endsWith('.md') && statSync(resolved).isFile()) {
        if (!parse(resolved).anchors.has(anchor)) {
          problems.push(`${where(line)}: ${target}: no heading or anchor "#${anchor}" there`);
        }
      } else if (!LINE_ANCHOR.test(anchor)) {
        problems.push(`${where(line)}: ${target}: "#${anchor}" cannot be checked in that file`);
      }
    }
  }
  return { problems, checked };
}

/** The planted problems of fixtures/, each of which the check must report. */
const PLANTED = [
  'broken.md:5: missing.md: no such file or folder',
  'broken.md:7: ok.md#no-such-heading: no heading or anchor "#no-such-heading" there',
  'broken.md:9: #also-missing: no heading or anchor "#also-missing" there',
  'broken.md:11: images/missing.png: no such file or folder',
  'broken.md:13: ../../../outside.md points outside the repository',
  'broken.md:17: missing-too.md: no such file or folder',
];

function selfTest() {
  const fixtures = path.join(here, 'fixtures');
  const { problems } = checkFiles(markdownFiles(fixtures), fixtures);
  const missed = PLANTED.filter((p) => !problems.includes(p));
  const extra = problems.filter((p) => !PLANTED.includes(p));
  if (missed.length > 0 || extra.length > 0) {
    console.error('check:docs self-test failed on tools/docs/fixtures:');
    for (const p of missed) console.error(`  not reported: ${p}`);
    for (const p of extra) console.error(`  reported wrongly: ${p}`);
    process.exit(1);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  selfTest();
  const files = markdownFiles(root);
  const { problems, checked } = checkFiles(files, root);
  for (const problem of problems) console.error(problem);
  console.log(
    `check:docs: ${checked} relative links and anchors in ${files.length} Markdown files, ` +
      `${problems.length} broken`,
  );
  process.exit(problems.length > 0 ? 1 : 0);
}
