import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UserError } from "../core/errors.js";
import { canonicalJson, codeVersion, type SweepRecord } from "../store/index.js";
import { planSweep } from "./plan.js";
import { checkPayload, jobIdOf, memberPayload, parseRedisUrl, redisOptions } from "./redis.js";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const isUser = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message);

describe("Redis URLs", () => {
  it("parse host, port, database, user, password and TLS; the display hides the password", () => {
    assert.deepEqual(parseRedisUrl("redis://127.0.0.1:6380/2"), {
      host: "127.0.0.1",
      port: 6380,
      db: 2,
      username: undefined,
      password: undefined,
      tls: false,
      display: "redis://127.0.0.1:6380/2",
      bare: "redis://127.0.0.1:6380/2",
    });
    const t = parseRedisUrl("rediss://bob:p%40ss@redis.example.org");
    assert.equal(t.port, 6379);
    assert.equal(t.db, 0);
    assert.equal(t.username, "bob");
    assert.equal(t.password, "p@ss");
    assert.equal(t.tls, true);
    assert.equal(t.display, "rediss://bob:***@redis.example.org/0");
    assert.equal(t.bare, "rediss://bob@redis.example.org/0");
    assert.deepEqual(redisOptions(t).tls, { servername: "redis.example.org" });
    assert.equal(parseRedisUrl("redis://:x@[::1]:7000").host, "::1");
    assert.equal(redisOptions(parseRedisUrl("redis://h")).tls, undefined);
  });

  it("refuse other schemes, a bad database, a query", () => {
    for (const [bad, re] of [
      ["localhost:6379", /expects redis:\/\/HOST:PORT/],
      ["http://h:1", /expects redis:\/\/HOST:PORT/],
      ["redis://h/x", /database must be an integer from 0 to 15, got "x"/],
      ["redis://h/16", /database must be an integer from 0 to 15/],
      ["redis://h?tls=1", /no query/],
    ] as const) {
      assert.throws(() => parseRedisUrl(bad), isUser(re), bad);
    }
  });
});

describe("job payloads", () => {
  const dir = mkdtempSync(join(tmpdir(), "sgdlab-payload-"));
  const spec = join(dir, "spec.json");
  writeFileSync(
    spec,
    JSON.stringify({
      name: "p",
      data: { kind: "moons", nTrain: 16, nTest: 8 },
      model: { kind: "mlp", hidden: [4] },
      loss: { kind: "ce" },
      optimizer: { kind: "sgd", lr: 0.1 },
      steps: 2,
    }),
  );
  const plan = planSweep({ spec, grid: [{ path: "optimizer.lr", values: [0.1, 0.2] }], name: "g" });
  const sweep: SweepRecord = {
    id: "sw-20261201-000000-abcd",
    name: plan.name,
    spec: plan.base,
    grid: plan.grid,
    members: plan.members,
    createdAt: 1,
    updatedAt: 1,
    ownerPid: null,
    ownerHost: null,
    executor: null,
  };

  it("a coordinator's payload validates on a worker and resolves to the recorded spec", () => {
    const p = memberPayload(sweep, 1, 1, codeVersion());
    const { exp } = checkPayload(jobIdOf(sweep.id, 1), JSON.parse(JSON.stringify(p)));
    assert.equal(exp.hash, plan.members[1].specHash);
    assert.equal((exp.spec.optimizer as { lr?: number }).lr, 0.2);
  });

  it("anything else is refused with the field named, before anything runs", () => {
    const p = memberPayload(sweep, 1, 1, codeVersion());
    const id = jobIdOf(sweep.id, 1);
    const cases: [unknown, RegExp, string?][] = [
      [{ cmd: "rm -rf /" }, /not an sgdlab member payload: format/],
      [null, /not an sgdlab member payload: \(top\)/],
      [{ ...p, extra: 1 }, /not an sgdlab member payload: \(top\): .*extra/],
      [{ ...p, sweep: { ...p.sweep, id: "../x" } }, /sweep\.id/],
      [{ ...p, member: { ...p.member, index: -1 } }, /member\.index/],
      [p, /its id is not sw-20261201-000000-abcd-1/, "sw-other-1"],
      [{ ...p, member: { ...p.member, overrides: { "optimizer.lr": "fast" } } }, /optimizer\.lr/],
      [
        { ...p, member: { ...p.member, specHash: "0".repeat(64) } },
        /resolves to hash .* not 000000000000 as on the coordinator/,
      ],
    ];
    for (const [data, re, jobId] of cases) {
      assert.throws(() => checkPayload(jobId ?? id, data), isUser(re), canonicalJson(data).slice(0, 80));
    }
  });
});
