// A browser talks to a plain line-echo protocol served over WebSocket by
// WrappingWebSocketServerFactory (examples/wrapping/server.py).
//
//   node tests/browser/wrapping.mjs ws://127.0.0.1:PORT
//
// From a blank page it opens one WebSocket with subprotocol "base64" (text
// messages, btoa/atob) and one with "binary" (ArrayBuffer), sends a line
// split across two messages on each and prints what the echo answered.
// Uses CHROMIUM (default /usr/bin/chromium) with a fresh profile directory.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const url = process.argv[2];
if (!url) {
  console.error("usage: node wrapping.mjs ws://127.0.0.1:PORT");
  process.exit(2);
}
const profile = mkdtempSync(join(tmpdir(), "wsproto-cb-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  timeout: 30_000,
});
try {
  const page = await context.newPage();
  const results = await page.evaluate(async (url) => {
    function talk(subprotocol) {
      return new Promise((resolve, reject) => {
        const ws = new WebSocket(url, [subprotocol]);
        ws.binaryType = "arraybuffer";
        let got = "";
        const encode = (text) => subprotocol === "base64" ? btoa(text) : new TextEncoder().encode(text);
        const decode = (data) => subprotocol === "base64" ? atob(data) : new TextDecoder().decode(data);
        ws.onopen = () => { ws.send(encode(`hello from ${subprotocol}, `)); ws.send(encode("in two parts\n")); };
        ws.onmessage = (event) => {
          got += decode(event.data);
          if (got.endsWith("\n")) { ws.close(1000); resolve(`${ws.protocol} -> ${got.trim()}`); }
        };
        ws.onerror = () => reject(new Error(`WebSocket error (${subprotocol})`));
        setTimeout(() => reject(new Error(`timeout (${subprotocol})`)), 10_000);
      });
    }
    return [await talk("base64"), await talk("binary")];
  }, url);
  for (const line of results) console.log(line);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
