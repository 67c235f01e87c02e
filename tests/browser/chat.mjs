// Drives the system Chromium through the chat page (examples/chat/).
//
//   node tests/browser/chat.mjs URL_A [URL_B] [--spread N]
//
// alice joins on the page at URL_A, bob on the page at URL_B (default: the
// same), each sees the other's join and message, both show that
// permessage-deflate was negotiated (the server's welcome message and the
// browser's own WebSocket.extensions), and alice sees bob leave.  Two URLs
// are two chat servers sharing a backplane: the messages cross between them.
// With --spread N (one URL, several worker processes behind it), bob leaves
// and joins again, at most N more times, until his page was served by
// another server (the welcome's "node") than alice's; that is reported, not
// required, since the kernel picks the worker.
//
// Prints one line per check and "NAME is on NODE"; exits non-zero on the
// first failure.  Uses CHROMIUM (default /usr/bin/chromium), never a browser
// downloaded by Playwright, with a fresh profile directory removed afterwards.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

let parsed;
try {
  parsed = parseArgs({ allowPositionals: true, options: { spread: { type: "string" } } });
} catch (err) {
  parsed = { positionals: [], values: {}, error: err.message };
}
const [urlA, urlB = urlA] = parsed.positionals;
const spread = Number(parsed.values.spread ?? 0);
if (!urlA || parsed.positionals.length > 2 || !Number.isInteger(spread) || spread < 0) {
  console.error("usage: node chat.mjs http://127.0.0.1:PORT/ [http://127.0.0.1:PORT2/] [--spread N]");
  process.exit(2);
}
const WAIT = { timeout: 10_000 };
const profile = mkdtempSync(join(tmpdir(), "wsproto-cb-chromium-"));

const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
  timeout: 30_000,
});

function check(what, ok, detail = "") {
  console.log(`${ok ? "ok" : "FAILED"}: ${what}${detail ? ` (${detail})` : ""}`);
  if (!ok) throw new Error(`check failed: ${what}`);
}

// Joins on the page at url; returns the page and the server ("node") it reached.
async function enter(url, name) {
  const page = await context.newPage();
  page.on("pageerror", (err) => console.log(`page error (${name}): ${err.message}`));
  await page.goto(url, WAIT);
  await page.fill("#name", name);
  await page.click("#join");
  await page.waitForFunction(
    (n) => document.getElementById("status").textContent === `joined as ${n}`, name, WAIT);
  check(`${name} joined`, true);
  const node = await page.textContent("#node");
  console.log(`${name} is on ${node}`);
  return { page, node };
}

async function countLines(page, text) {
  return page.evaluate(
    (t) => [...document.querySelectorAll("#log li")].filter((li) => li.textContent === t).length,
    text);
}

// Waits until the log shows the line more than `seen` times.
async function waitForLine(page, text, seen = 0) {
  await page.waitForFunction(
    ([t, n]) =>
      [...document.querySelectorAll("#log li")].filter((li) => li.textContent === t).length > n,
    [text, seen], WAIT);
}

async function say(page, text) {
  await page.fill("#text", text);
  await page.click("#send");
}

let status = 0;
try {
  const alice = await enter(urlA, "alice");
  let joins = await countLines(alice.page, "* bob joined");
  let bob = await enter(urlB, "bob");
  for (let tries = 0; tries < spread && bob.node === alice.node; tries++) {
    await waitForLine(alice.page, "* bob joined", joins);
    const leaves = await countLines(alice.page, "* bob left");
    await bob.page.close();
    await waitForLine(alice.page, "* bob left", leaves); // (the name is free again there)
    joins = await countLines(alice.page, "* bob joined");
    bob = await enter(urlB, "bob");
  }
  if (spread) {
    console.log(bob.node === alice.node
      ? `note: alice and bob are on the same server after ${spread} more tries`
      : "ok: alice and bob are on different servers");
  }
  await waitForLine(alice.page, "* bob joined", joins);
  check("alice sees bob join", true);

  await say(alice.page, "hello bob");
  await waitForLine(bob.page, "<alice> hello bob");
  check("bob sees alice's message", true);
  await say(bob.page, "hi alice");
  await waitForLine(alice.page, "<bob> hi alice");
  check("alice sees bob's message", true);

  for (const [name, { page }] of [["alice", alice], ["bob", bob]]) {
    const shown = await page.textContent("#extensions");
    check(`${name}'s page shows the server's extensions`,
      shown.startsWith("permessage-deflate ("), shown);
    const negotiated = await page.evaluate(() => ws.extensions);
    check(`${name}'s browser negotiated permessage-deflate`,
      negotiated.startsWith("permessage-deflate"), negotiated);
  }

  const leaves = await countLines(alice.page, "* bob left");
  await bob.page.close();
  await waitForLine(alice.page, "* bob left", leaves);
  check("alice sees bob leave", true);
} catch (err) {
  console.log(`error: ${err.message}`);
  status = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(status);
