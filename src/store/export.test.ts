import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import Database from "better-sqlite3";
import { UserError } from "../core/errors.js";
import { exportRun } from "./export.js";
import { RunStore } from "./store.js";

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A small finished run whose volatile fields (id, times, pid, host, code version) are pinned by SQL. */
function smallRun(): { store: RunStore; id: string } {
  const dir = mkdtempSync(join(tmpdir(), "sgdlab-export-"));
  dirs.push(dir);
  const store = RunStore.open(dir);
  const { id: drawn } = store.createRun({
    name: "tiny",
    spec: { lr: 0.5, model: "mlp" },
    specHash: "h1",
    codeVersion: "0.1.0",
    backend: "wasm",
    dtype: "float64",
    seed: 3,
  });
  store.appendMetrics(drawn, [
    { step: 0, key: "train/loss", value: 1.5 },
    { step: 0, key: "acc", value: 0.25 },
    { step: 10, key: "train/loss", value: NaN },
    { step: 20, key: "train/loss", value: Infinity },
    { step: 20, key: "acc", value: -Infinity },
    { step: 5, key: 'odd,"key"', value: -0.125 },
  ]);
  store.logEvent(drawn, { kind: "diverged", message: "loss is NaN", step: 10, data: { loss: NaN } });
  store.finishRun(drawn, "diverged", { summary: { loss: Infinity, steps: 20 }, error: "diverged at step 10" });
  store.close();
  const id = "20261126-231500-ab12";
  const db = new Database(join(dir, "sgdlab.db"));
  db.pragma("foreign_keys = ON");
  db.exec("PRAGMA defer_foreign_keys = ON");
  db.transaction(() => {
    db.prepare(
      `UPDATE runs SET id = ?, created_at = 1795734900000, started_at = 1795734900000, finished_at = 1795734960500,
       updated_at = 1795734960500, pid = 4242, hostname = 'lab' WHERE id = ?`,
    ).run(id, drawn);
    for (const t of ["metrics", "events"]) db.prepare(`UPDATE ${t} SET run_id = ? WHERE run_id = ?`).run(id, drawn);
    db.prepare("UPDATE events SET time = 1795734930000").run();
  })();
  db.close();
  return { store: RunStore.open(dir), id };
}

describe("exportRun", () => {
  it("writes wide CSV: sorted keys, empty cells, NaN/Infinity spelled out, quoted odd keys", () => {
    const { store, id } = smallRun();
    const expected = [
      'step,acc,"odd,""key""",train/loss',
      "0,0.25,,1.5",
      "5,,-0.125,",
      "10,,,NaN",
      "20,-Infinity,,Infinity",
      "",
    ].join("\n");
    assert.equal(exportRun(store, "20261126", "csv"), expected);
    assert.equal(exportRun(store, id, "csv"), expected);
    store.close();
  });

  it("writes JSON with the run, metrics as [step, value] pairs and events; non-finite as strings", () => {
    const { store, id } = smallRun();
    const expected =
      '{"run":{"id":"20261126-231500-ab12","name":"tiny","specHash":"h1","status":"diverged",' +
      '"createdAt":"2026-11-26T23:15:00.000Z","startedAt":"2026-11-26T23:15:00.000Z",' +
      '"finishedAt":"2026-11-26T23:16:00.500Z","updatedAt":"2026-11-26T23:16:00.500Z","codeVersion":"0.1.0",' +
      '"backend":"wasm","dtype":"float64","seed":3,"pid":4242,"hostname":"lab",' +
      '"summary":{"loss":"Infinity","steps":20},"error":"diverged at step 10","spec":{"lr":0.5,"model":"mlp"}},' +
      '"metrics":{"acc":[[0,0.25],[20,"-Infinity"]],"odd,\\"key\\"":[[5,-0.125]],' +
      '"train/loss":[[0,1.5],[10,"NaN"],[20,"Infinity"]]},' +
      '"events":[{"step":10,"time":"2026-11-26T23:15:30.000Z","kind":"diverged","message":"loss is NaN",' +
      '"data":{"loss":"NaN"}}]}\n';
    assert.equal(exportRun(store, id, "json"), expected);
    assert.throws(() => exportRun(store, id, "xml" as never), UserError);
    assert.throws(() => exportRun(store, "1999", "csv"), /no run 1999 in store/);
    store.close();
  });
});
