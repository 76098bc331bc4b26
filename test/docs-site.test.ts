// The documentation site (`npm run docs`: TypeDoc's API reference of every entry plus README,
// Coming from Python, the guide and the error reference) checked as a reader sees it (issue #17):
// built, served on loopback, and crawled in a real headless Chromium (Debian's, driven by
// playwright-core). Every page renders with a title and no console error or failed request,
// every internal link leads to a page that exists, and every #anchor to an element on it.
// Skips, saying why, when Chromium is not installed (apt-get install chromium; .ci/run does).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { ROOT } from "./helpers.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SITE = join(ROOT, "out/docs-site");

// As the machines' notes prescribe: nothing that reaches for the network, a fresh profile.
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".css": "text/css",
  ".svg": "image/svg+xml",
  ".json": "application/json",
  ".md": "text/markdown; charset=utf-8",
  ".py": "text/plain; charset=utf-8",
  ".ts": "text/plain; charset=utf-8",
};

function serve(dir: string): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
    let file = join(dir, path);
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, "index.html");
    if (!file.startsWith(dir) || !existsSync(file)) {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(readFileSync(file));
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") throw new Error("no port");
      resolve({ server, origin: `http://127.0.0.1:${address.port}` });
    });
  });
}

test("the docs site builds, and every page renders in Chromium with no broken internal link", { timeout: 900_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`Chromium is not installed at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH): the docs site was not checked`);
    return;
  }
  rmSync(SITE, { recursive: true, force: true });
  await promisify(execFile)(join(ROOT, "node_modules/.bin/typedoc"), ["--out", SITE], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  assert.ok(existsSync(join(SITE, "index.html")), "typedoc wrote no index.html");

  const { server, origin } = await serve(SITE);
  const profile = mkdtempSync(join(tmpdir(), "multiproc-docs-chromium-"));
  let context: BrowserContext | undefined;
  try {
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS });
    const problems: string[] = [];
    const queue = [`${origin}/index.html`];
    const seen = new Set(queue);
    const ids = new Map<string, Set<string>>();
    const anchors: { from: string; page: string; hash: string }[] = [];
    const titles = new Map<string, string>();
    // Four tabs crawl side by side: the runner gives a test file 120 s, and a loaded machine
    // spends most of a page's time waiting.
    const crawl = async (page: Page, only?: number) => {
      let current = "";
      page.on("console", (msg) => {
        // Chromium asks every site for /favicon.ico on its own; TypeDoc's sites have none.
        if (msg.type() === "error" && !msg.location().url.endsWith("/favicon.ico")) {
          problems.push(`${current}: console error: ${msg.text()} (${msg.location().url})`);
        }
      });
      page.on("pageerror", (err) => problems.push(`${current}: uncaught ${err.message}`));
      page.on("requestfailed", (req) => problems.push(`${current}: request failed: ${req.url()}`));
      page.on("response", (res) => {
        if (res.status() >= 400 && !res.url().endsWith("/favicon.ico")) problems.push(`${current}: ${res.status()} for ${res.url()}`);
      });
      let visits = 0;
      for (let url = queue.shift(); url !== undefined; url = only !== undefined && ++visits >= only ? undefined : queue.shift()) {
        current = url.slice(origin.length);
        const response = await page.goto(url, { waitUntil: "load" });
        if (response === null || !response.ok()) {
          problems.push(`${current}: could not be loaded (${response?.status() ?? "no response"})`);
          continue;
        }
        if (!(response.headers()["content-type"] ?? "").startsWith("text/html")) continue; // a copied media file
        const title = await page.title();
        titles.set(current, title);
        if (title.trim() === "") problems.push(`${current}: no title`);
        // A string, evaluated in the page: the tests are compiled without the DOM's types.
        const found = await page.evaluate<{ ids: string[]; links: string[]; main: number }>(`({
          ids: [...document.querySelectorAll("[id], a[name]")].map((e) => e.id || e.getAttribute("name") || ""),
          links: [...document.querySelectorAll("a[href]")].map((a) => a.href),
          main: (document.querySelector(".col-content")?.textContent ?? document.body.textContent ?? "").trim().length,
        })`);
        if (found.main === 0) problems.push(`${current}: renders no content`);
        ids.set(url, new Set(found.ids));
        for (const href of found.links) {
          const link = new URL(href);
          if (link.origin !== origin) continue;
          const target = `${link.origin}${link.pathname}`;
          if (link.hash.length > 1) anchors.push({ from: current, page: target, hash: decodeURIComponent(link.hash.slice(1)) });
          if (!seen.has(target)) {
            seen.add(target);
            queue.push(target);
          }
        }
      }
    };
    // The first tab reads the front page's links before four take from the queue; a tab stops
    // when the queue is empty, and the tabs still running take what the others add.
    const first = await context.newPage();
    await crawl(first, 1);
    await first.close();
    const tabs = await Promise.all([1, 2, 3, 4].map(() => context!.newPage()));
    await Promise.all(tabs.map((tab) => crawl(tab)));
    for (const { from, page: target, hash } of anchors) {
      const known = ids.get(target);
      if (known !== undefined && !known.has(hash)) problems.push(`${from}: link to ${target.slice(origin.length)}#${hash}, which has no such anchor`);
    }
    const unique = [...new Set(problems)];
    assert.deepEqual(unique, [], `${unique.length} problems in ${titles.size} pages`);

    // The pages a Python user starts from are there, and reached from the front page.
    const pages = [...titles.keys()].join("\n");
    for (const expected of [/coming-from-python/i, /errors/i, /seed000/i, /seed004/i, /Pool\.html/, /SharedMemory\.html/]) {
      assert.match(pages, expected, `no page matching ${String(expected)} among:\n${pages}`);
    }
    assert.ok(titles.size >= 100, `only ${titles.size} pages`);
  } finally {
    await context?.close();
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
