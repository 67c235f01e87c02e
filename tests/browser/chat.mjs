// Drives the system Chromium through the chat page (examples/chat/).
//
//   node tests/browser/chat.mjs http://127.0.0.1:PORT/
//
// Two pages join as alice and bob, each sees the other's message, both
// show that permessage-deflate was negotiated (the server's welcome message
// and the browser's own WebSocket.extensions), and alice sees bob leave.
// Prints one line per check; exits non-zero on the first failure.  Uses
// CHROMIUM (default /usr/bin/chromium), never a browser downloaded by
// Playwright, with a fresh profile directory that is removed afterwards.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const url = process.argv[2];
if (!url) {
  console.error("usage: node chat.mjs http://127.0.0.1:PORT/");
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

async function enter(name) {
  const page = await context.newPage();
  page.on("pageerror", (err) => console.log(`page error (${name}): ${err.message}`));
  await page.goto(url, WAIT);
  await page.fill("#name", name);
  await page.click("#join");
  await page.waitForFunction(
    (n) => document.getElementById("status").textContent === `joined as ${n}`, name, WAIT);
  check(`${name} joined`, true);
  return page;
}

async function waitForLine(page, text) {
  await page.waitForFunction(
    (t) => [...document.querySelectorAll("#log li")].some((li) => li.textContent === t),
    text, WAIT);
}

async function say(page, text) {
  await page.fill("#text", text);
  await page.click("#send");
}

let status = 0;
try {
  const alice = await enter("alice");
  const bob = await enter("bob");
  await waitForLine(alice, "* bob joined");
  check("alice sees bob join", true);

  await say(alice, "hello bob");
  await waitForLine(bob, "<alice> hello bob");
  check("bob sees alice's message", true);
  await say(bob, "hi alice");
  await waitForLine(alice, "<bob> hi alice");
  check("alice sees bob's message", true);

  for (const [name, page] of [["alice", alice], ["bob", bob]]) {
    const shown = await page.textContent("#extensions");
    check(`${name}'s page shows the server's extensions`,
      shown.startsWith("permessage-deflate ("), shown);
    const negotiated = await page.evaluate(() => ws.extensions);
    check(`${name}'s browser negotiated permessage-deflate`,
      negotiated.startsWith("permessage-deflate"), negotiated);
  }

  await bob.close();
  await waitForLine(alice, "* bob left");
  check("alice sees bob leave", true);
} catch (err) {
  console.log(`error: ${err.message}`);
  status = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(status);
