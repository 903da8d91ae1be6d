// The addon page as an admin's browser meets it: headless Chromium (Debian's) driven over
// the DevTools protocol (chrome-remote-interface). Called by AddonBrowserTest.php, which
// serves the stand-in WHMCS with PHP's web server and asserts what this prints.
//
//   node addon-page.mjs --page URL --click LABEL --forge URL --shot FILE
//
// Opens the page, clicks the button whose label starts with LABEL (the page after it is
// the screenshot), then opens the forge URL (another origin's page that posts to the addon
// page without WHMCS's token). Prints JSON: for each step the document's HTTP status, its
// text and its buttons' labels.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import CDP from 'chrome-remote-interface';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => (i % 2 === 0 ? [...pairs, [arg.replace(/^--/, ''), all[i + 1]]] : pairs), []),
);
for (const need of ['page', 'click', 'forge', 'shot']) {
  if (!args[need]) {
    console.error(`addon-page: --${need} is missing`);
    process.exit(2);
  }
}

const profile = mkdtempSync(join(tmpdir(), 'opsync-chromium-'));
const browser = spawn(process.env.CHROMIUM ?? 'chromium', [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
  '--hide-scrollbars', '--window-size=1100,1000', `--user-data-dir=${profile}`, '--remote-debugging-port=0', 'about:blank',
], { stdio: ['ignore', 'ignore', 'pipe'] });

const port = await new Promise((resolve, reject) => {
  let said = '';
  const timer = setTimeout(() => reject(new Error(`chromium did not start: ${said}`)), 30_000);
  timer.unref();
  browser.stderr.on('data', (chunk) => {
    said += chunk;
    const found = /DevTools listening on ws:\/\/[^:]+:(\d+)\//.exec(said);
    if (found) {
      clearTimeout(timer);
      resolve(Number(found[1]));
    }
  });
  browser.on('exit', (code) => reject(new Error(`chromium exited (${code}): ${said}`)));
});

const client = await CDP({ port });
const { Page, Runtime, Network } = client;
await Promise.all([Page.enable(), Runtime.enable(), Network.enable()]);
let status = null;
Network.responseReceived(({ type, response }) => {
  if (type === 'Document') {
    status = response.status;
  }
});

/** `promise`, or an error naming `what` after `ms` (the timer never holds the process up). */
function within(promise, ms, what) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} in ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Waits for the next document to load after `act` (a navigation or a click). */
async function loaded(act, documents = 1) {
  let left = documents;
  const done = new Promise((resolve) => {
    const off = Page.loadEventFired(() => {
      left -= 1;
      if (left === 0) {
        off();
        resolve();
      }
    });
  });
  await act();
  await within(done, 60_000, 'the page did not load');
}

async function seen() {
  const { result } = await Runtime.evaluate({
    expression: 'JSON.stringify({text: document.body ? document.body.innerText : "", '
      + 'buttons: [...document.querySelectorAll("button")].map((b) => b.innerText.trim())})',
  });
  return { status, ...JSON.parse(result.value) };
}

const steps = {};
try {
  await loaded(() => Page.navigate({ url: args.page }));
  steps.opened = await seen();

  const labels = steps.opened.buttons;
  if (!labels.some((label) => label.startsWith(args.click))) {
    throw new Error(`no button starts with "${args.click}": ${labels.join(', ')}`);
  }
  await loaded(() => Runtime.evaluate({
    expression: `[...document.querySelectorAll('button')].find((b) => b.innerText.trim().startsWith(${JSON.stringify(args.click)})).click()`,
  }));
  steps.clicked = await seen();
  const shot = await Page.captureScreenshot({ format: 'png' });
  writeFileSync(args.shot, Buffer.from(shot.data, 'base64'));

  // The forging page posts its form as it loads (its own load may never come): wait for
  // the document the post brings.
  const landed = new Promise((resolve) => {
    const off = Page.frameNavigated(({ frame }) => {
      if (!frame.parentId && frame.url !== args.forge) {
        off();
        resolve();
      }
    });
  });
  await Page.navigate({ url: args.forge });
  await within(landed, 60_000, 'the forged post did not land');
  for (let i = 0; i < 600; i++) {
    const { result } = await Runtime.evaluate({ expression: 'document.readyState' });
    if (result.value === 'complete') {
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  steps.forged = await seen();
  console.log(JSON.stringify(steps));
} catch (error) {
  console.log(JSON.stringify({ ...steps, error: String(error) }));
  process.exitCode = 1;
} finally {
  await client.close();
  const exited = new Promise((resolve) => browser.once('exit', resolve));
  browser.kill();
  await exited;
  // Chromium's helper processes may still write into the profile for a moment after the
  // browser exits: retry the removal, and never let a leftover folder fail the test.
  try {
    rmSync(profile, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
  } catch (error) {
    console.error(`addon-page: left ${profile} behind: ${error.message}`);
  }
}
