// Preloaded (`node --import`) into a command the bench runs: when it exits, writes its wall
// time since start, CPU time (user + system, worker threads included) and peak RSS as JSON
// to the file REDUN_BENCH_USAGE names. The variable is removed at once, so that processes
// the command starts (process-mode workers) do not report over it.
import fs from "node:fs";

const file = process.env.REDUN_BENCH_USAGE;
delete process.env.REDUN_BENCH_USAGE;
if (file) {
  process.on("exit", () => {
    const usage = process.resourceUsage();
    fs.writeFileSync(
      file,
      JSON.stringify({
        seconds: performance.now() / 1000,
        cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
        maxRssMB: Math.round(usage.maxRSS / 1024),
      }),
    );
  });
}
