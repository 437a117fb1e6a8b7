/**
 * The built package as a user imports it: a project whose node_modules/sgdlab links to this
 * repository runs `import { ... } from "sgdlab"` in a child Node process (resolved through
 * package.json's `exports` to dist/, which `npm test` builds first). The child builds an MLP, takes a
 * cross-entropy loss and its gradient, and prints them; this test recomputes the loss on the host in
 * float64 and checks the gradient against central finite differences of that host loss.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";

const ROOT = join(import.meta.dirname, "..");

/** One entry point of every layer a notebook-style script uses (data, models, ..., experiments). */
const ENTRY_POINTS = [
  "initRuntime",
  "Key",
  "np",
  "tree",
  "valueAndGrad",
  "treeNorm",
  "makeDataset",
  "loadData",
  "createModel",
  "createLoss",
  "createOptimizer",
  "sgd",
  "lanczos",
  "createProbes",
  "runExperiment",
  "RunStore",
  "resolveSpec",
  "loadSpec",
];

const X = [
  [0.5, -1.0],
  [1.5, 0.25],
  [-0.75, 2.0],
];
const LABELS = [0, 1, 1];

/** The user's script: a 2-3-2 tanh MLP in float64, its mean cross-entropy on X and the gradient. */
const SCRIPT = `
import * as sgdlab from "sgdlab";
import { initRuntime, Key, createModel, createLoss, np, valueAndGrad, toHost, toScalar, treeNorm } from "sgdlab";

await initRuntime("wasm");
const model = createModel({ kind: "mlp", hidden: [3], activation: "tanh" }, [2], 2);
const params = model.init(Key.fromSeed(7), "float64");
const loss = createLoss({ kind: "ce" });
const x = np.array(${JSON.stringify(X)}, { dtype: np.float64 });
const y = np.array(${JSON.stringify(LABELS)}, { dtype: np.int32 });
const host = async (p) =>
  Promise.all(p.layers.map(async (l) => ({ W: [...(await toHost(l.W))], b: [...(await toHost(l.b))] })));
const theta = await host({ layers: params.layers.map((l) => ({ W: l.W.ref, b: l.b.ref })) });
const [value, g] = valueAndGrad((p, xx, yy) => loss(model.apply(p, xx), yy))(params, x, y);
const gradNorm = await toScalar(treeNorm({ layers: g.layers.map((l) => ({ W: l.W.ref, b: l.b.ref })) }));
console.log(JSON.stringify({
  missing: ${JSON.stringify(ENTRY_POINTS)}.filter((name) => sgdlab[name] === undefined),
  paramCount: model.paramCount(),
  theta,
  loss: await toScalar(value),
  grad: await host(g),
  gradNorm,
}));
`;

interface Layer {
  W: number[];
  b: number[];
}

/** Mean cross-entropy of the MLP with layers `theta` (W row-major [in, out], tanh between layers). */
function hostLoss(theta: Layer[]): number {
  let total = 0;
  for (let n = 0; n < X.length; n++) {
    let h = X[n];
    theta.forEach((l, i) => {
      const out = l.b.length;
      const z = l.b.map((b, j) => b + h.reduce((s, hk, k) => s + hk * l.W[k * out + j], 0));
      h = i < theta.length - 1 ? z.map(Math.tanh) : z;
    });
    const m = Math.max(...h);
    const lse = m + Math.log(h.reduce((s, v) => s + Math.exp(v - m), 0));
    total += lse - h[LABELS[n]];
  }
  return total / X.length;
}

describe("the built package", () => {
  const dir = mkdtempSync(join(tmpdir(), "sgdlab-user-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("package.json's entry points exist in dist/ (npm test builds first)", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      main: string;
      types: string;
      exports: { ".": { types: string; default: string } };
    };
    for (const file of [pkg.main, pkg.types, pkg.exports["."].types, pkg.exports["."].default]) {
      assert.ok(existsSync(join(ROOT, file)), `${file} is missing: run npm run build`);
    }
  });

  it('import "sgdlab" from another project: loss and gradient of an MLP (float64)', () => {
    mkdirSync(join(dir, "node_modules"));
    symlinkSync(ROOT, join(dir, "node_modules", "sgdlab"), "dir");
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "user", private: true, type: "module" }));
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", SCRIPT], {
      cwd: dir,
      encoding: "utf8",
      timeout: 120_000,
    });
    assert.equal(r.status, 0, `child failed (status ${r.status}):\n${r.stderr}`);
    const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as {
      missing: string[];
      paramCount: number;
      theta: Layer[];
      loss: number;
      grad: Layer[];
      gradNorm: number;
    };
    assert.deepEqual(out.missing, [], "entry points missing from the package");
    assert.equal(out.paramCount, 2 * 3 + 3 + 3 * 2 + 2);
    assert.deepEqual(
      out.theta.map((l) => [l.W.length, l.b.length]),
      [
        [6, 3],
        [6, 2],
      ],
    );

    // Wasm evaluates float64 tanh/exp/log at float32 precision (test/fixtures/reference/README.md).
    const ref = hostLoss(out.theta);
    assert.ok(Math.abs(out.loss - ref) <= 1e-6 * ref, `loss ${out.loss} vs host ${ref}`);

    const h = 1e-6;
    let sq = 0;
    out.theta.forEach((layer, i) => {
      for (const leaf of ["W", "b"] as const) {
        layer[leaf].forEach((_, k) => {
          const at = (d: number) =>
            hostLoss(
              out.theta.map((l, j) => (j !== i ? l : { ...l, [leaf]: l[leaf].map((v, m) => (m === k ? v + d : v)) })),
            );
          const fd = (at(h) - at(-h)) / (2 * h);
          const got = out.grad[i][leaf][k];
          sq += got * got;
          assert.ok(Math.abs(got - fd) <= 1e-6, `∂L/∂layers[${i}].${leaf}[${k}] = ${got}, finite difference ${fd}`);
        });
      }
    });
    assert.ok(Math.abs(out.gradNorm - Math.sqrt(sq)) <= 1e-12, `‖∇L‖ ${out.gradNorm} vs ${Math.sqrt(sq)}`);
    assert.ok(out.gradNorm > 1e-3, "a nonzero gradient, so the comparison means something");
  });
});
