// The run scenarios (fixtures/runs/*.run.jsonl) through the npm package: every recorded
// run replayed in a Run of its own, each outputs compared byte for byte.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const engine = require(path.join(here, "../pkg-node/opsync_engine_js.js"));
const dir = path.join(here, "../../../fixtures/runs");
const files = readdirSync(dir).filter((f) => f.endsWith(".run.jsonl")).sort();

test("there are run scenarios", () => {
  assert.ok(files.length >= 18, `only ${files.length} run scenarios`);
});

for (const file of files) {
  test(file, () => {
    const lines = readFileSync(path.join(dir, file), "utf8").split("\n").filter((l) => l !== "");
    const run = new engine.Run(lines[0]);
    assert.equal(run.outputs(), lines[1], "the first outputs");
    for (let i = 2; i < lines.length; i += 2) {
      const line = JSON.parse(lines[i]);
      assert.equal(run.feedJson(JSON.stringify(line.input), line.body), lines[i + 1], `step ${i / 2}`);
    }
  });
}

test("a bad input is refused and the run goes on", () => {
  const lines = readFileSync(path.join(dir, "clean-sync.run.jsonl"), "utf8").split("\n").filter((l) => l !== "");
  const run = new engine.Run(lines[0]);
  run.outputs();
  assert.throws(() => run.feedJson("{not json", ""), (e) => e.message.startsWith("input: not a run's input"));
  const line = JSON.parse(lines[2]);
  assert.equal(run.feedJson(JSON.stringify(line.input), line.body), lines[3]);
});
