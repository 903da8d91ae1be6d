// Every shared scenario through the npm package (Node build): decideJson gives the exact
// bytes, decide gives the same objects, invalid requests throw the contract's line.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const engine = require(path.join(here, "../pkg-node/opsync_engine_js.js"));
const dir = path.join(here, "../../../fixtures/scenarios");
const names = readdirSync(dir)
  .filter((f) => f.endsWith(".request.json"))
  .map((f) => f.slice(0, -".request.json".length))
  .sort();

test("there are scenarios to run", () => {
  assert.ok(names.length >= 50, `only ${names.length} scenarios`);
});

for (const name of names) {
  test(name, () => {
    const request = readFileSync(path.join(dir, `${name}.request.json`), "utf8");
    const responseFile = path.join(dir, `${name}.response.json`);
    if (existsSync(responseFile)) {
      const expected = readFileSync(responseFile, "utf8");
      assert.equal(engine.decideJson(request) + "\n", expected);
      assert.deepEqual(engine.decide(JSON.parse(request)), JSON.parse(expected));
    } else {
      const line = readFileSync(path.join(dir, `${name}.error.txt`), "utf8").trimEnd();
      assert.throws(() => engine.decideJson(request), (e) => e.message === line);
      let parsed;
      try {
        parsed = JSON.parse(request);
      } catch {
        return; // not JSON: only the text entry point can be given it
      }
      assert.throws(() => engine.decide(parsed), (e) => e.message === line);
    }
  });
}

// Every report scenario (fixtures/reports): renderReportJson gives the exact bytes,
// renderReport the same objects, invalid inputs throw the contract's line.
const reportsDir = path.join(here, "../../../fixtures/reports");
const reports = readdirSync(reportsDir)
  .filter((f) => f.endsWith(".input.json"))
  .map((f) => f.slice(0, -".input.json".length))
  .sort();

test("there are report scenarios to run", () => {
  assert.ok(reports.length >= 8, `only ${reports.length} report scenarios`);
});

for (const name of reports) {
  test(`report: ${name}`, () => {
    const input = readFileSync(path.join(reportsDir, `${name}.input.json`), "utf8");
    const reportFile = path.join(reportsDir, `${name}.report.json`);
    if (existsSync(reportFile)) {
      const expected = readFileSync(reportFile, "utf8");
      assert.equal(engine.renderReportJson(input) + "\n", expected);
      assert.deepEqual(engine.renderReport(JSON.parse(input)), JSON.parse(expected));
    } else {
      const line = readFileSync(path.join(reportsDir, `${name}.error.txt`), "utf8").trimEnd();
      assert.throws(() => engine.renderReportJson(input), (e) => e.message === line);
      assert.throws(() => engine.renderReport(JSON.parse(input)), (e) => e.message === line);
    }
  });
}

test("renderReport and version", () => {
  const request = readFileSync(path.join(dir, "contract-example.request.json"), "utf8");
  const report = engine.renderReport({ response: engine.decide(JSON.parse(request)) });
  assert.equal(report.send, true);
  assert.equal(report.subject, "Domain Synchronisation Report: 1 domain changed");
  assert.equal(engine.version(), "opsync-engine 0.1.0");
});

test("lookupNames gives the names Openprovider knows", () => {
  assert.deepEqual(engine.lookupNames([" Example.COM. ", "Bücher.de", "a..com"]), ["example.com", "xn--bcher-kva.de", null]);
  assert.throws(() => engine.lookupNames(["a.com", 7]), (e) => e.message === "names[1]: expected a string");
});

test("the TypeScript types describe the request and the response", () => {
  const dts = readFileSync(path.join(here, "../pkg-node/opsync_engine_js.d.ts"), "utf8");
  for (const needle of ["export interface Request", "export interface Response", "decide(request: Request): Response"]) {
    assert.ok(dts.includes(needle), `${needle} missing from the .d.ts`);
  }
});

test("the browser build answers the same (initialised from bytes, as a bundler would)", async () => {
  const web = await import(path.join(here, "../pkg-web/opsync_engine_js.js"));
  web.initSync({ module: readFileSync(path.join(here, "../pkg-web/opsync_engine_js_bg.wasm")) });
  const request = readFileSync(path.join(dir, "contract-example.request.json"), "utf8");
  const expected = readFileSync(path.join(dir, "contract-example.response.json"), "utf8");
  assert.equal(web.decideJson(request) + "\n", expected);
});
