import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { loadCsv } from "./csv.js";

const dir = mkdtempSync(join(tmpdir(), "sgdlab-csv-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const rows = [
  [0.5, -1.25, 2, 1],
  [1e-3, 3.5e2, -0.0625, 0],
  [7, 8, 9, 2],
];
const body = rows.map((r) => r.join(",")).join("\n");

describe("CSV loader", () => {
  it("reads a header row and a label column by name, index or negative index", () => {
    const p = write("with-header.csv", "a,b,c,label\n" + body + "\n\n");
    for (const label of ["label", 3, -1] as const) {
      const ds = loadCsv(p, { label });
      assert.equal(ds.task, "classification");
      assert.equal(ds.n, 3);
      assert.deepEqual(ds.xShape, [3]);
      assert.deepEqual(
        Array.from(ds.x),
        rows.flatMap((r) => r.slice(0, 3)),
      );
      assert.deepEqual(Array.from(ds.labels!), [1, 0, 2]);
      assert.equal(ds.numClasses, 3);
    }
    assert.equal(loadCsv(p, { label: "label", numClasses: 5 }).numClasses, 5);
  });

  it("reads files without a header, with CRLF, BOM, quotes, spaces, another delimiter, nan/inf", () => {
    const p = write("plain.csv", "\uFEFF" + rows.map((r) => r.map((v) => ` "${v}" `).join(";")).join("\r\n") + "\r\n");
    const ds = loadCsv(p, { label: -1, delimiter: ";" });
    assert.equal(ds.n, 3);
    assert.deepEqual(
      Array.from(ds.x),
      rows.flatMap((r) => r.slice(0, 3)),
    );
    assert.deepEqual(Array.from(ds.labels!), [1, 0, 2]);
    const special = loadCsv(write("special.csv", "nan,-inf,+Infinity,1\n1.5e-3,.5,-2.,0\n"), { label: 3 });
    assert.deepEqual(Array.from(special.x), [NaN, -Infinity, Infinity, 1.5e-3, 0.5, -2]);
  });

  it("reads regression target columns", () => {
    const p = write("regression.csv", "a,b,c,label\n" + body);
    const ds = loadCsv(p, { targets: ["b", 3] });
    assert.equal(ds.task, "regression");
    assert.equal(ds.targetDim, 2);
    assert.deepEqual(
      Array.from(ds.targets!),
      rows.flatMap((r) => [r[1], r[3]]),
    );
    assert.deepEqual(
      Array.from(ds.x),
      rows.flatMap((r) => [r[0], r[2]]),
    );
  });

  it("reports bad cells with file, line and column, and other mistakes, as UserErrors", () => {
    const bad = write("bad-cell.csv", "a,b,c,label\n1,2,3,0\n4,abc,6,1\n");
    assert.throws(() => loadCsv(bad, { label: "label" }), {
      name: "UserError",
      message: /bad-cell\.csv", line 3, column 2 \("b"\): "abc" is not a number/,
    });
    const empty = write("empty-cell.csv", "1,2,0\n4,,1\n");
    assert.throws(() => loadCsv(empty, { label: 2 }), {
      name: "UserError",
      message: /empty-cell\.csv", line 2, column 2/,
    });
    const ragged = write("ragged.csv", "1,2,0\n4,5\n");
    assert.throws(() => loadCsv(ragged, { label: 2 }), {
      name: "UserError",
      message: /ragged\.csv", line 2: expected 3 cells/,
    });
    const p = write("ok.csv", "a,b,c,label\n" + body);
    assert.throws(() => loadCsv(p, { label: "b" }), {
      name: "UserError",
      message: /ok\.csv", line 2, column 2.*not a non-negative integer/,
    });
    assert.throws(() => loadCsv(p, { label: "zzz" }), { name: "UserError", message: /ok\.csv.*"zzz" is not a column/ });
    assert.throws(() => loadCsv(p, { label: 4 }), { name: "UserError", message: /out of range/ });
    assert.throws(() => loadCsv(p, { label: 0, targets: [1] }), { name: "UserError", message: /exactly one/ });
    assert.throws(() => loadCsv(p, {}), { name: "UserError", message: /exactly one/ });
    const noHeader = write("no-header.csv", body);
    assert.throws(() => loadCsv(noHeader, { label: "label" }), { name: "UserError", message: /no header/ });
    assert.throws(() => loadCsv(write("blank.csv", "\n \n"), { label: 0 }), {
      name: "UserError",
      message: /blank\.csv.*empty/,
    });
    assert.throws(() => loadCsv(join(dir, "gone.csv"), { label: 0 }), {
      name: "UserError",
      message: /gone\.csv.*no such file/,
    });
  });
});
