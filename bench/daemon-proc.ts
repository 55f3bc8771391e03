/**
 * The daemon in a process of its own for the makeCall benchmark, so that its
 * latency is not mixed with the simulated PBX's or the load generator's CPU.
 * Configured from the environment like the real daemon (CALLBRIDGE_*), it logs
 * at its configured level to stdout (the benchmark discards it).
 *
 * IPC: sends {type:'ready', port}; answers {type:'state', sips, statuses?} with
 * {type:'state', open, notOnline, ami, ari, statuses, cpuMs}; {type:'stop'} stops it and exits.
 * `cpuMs` is the process's CPU time less what answering these probes cost (the benchmark polls
 * every 20 ms while calls settle: that is its own work, not the daemon's).
 */
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { startDaemon } from '../src/daemon.js';

type Request = { type: 'state'; sips: string[]; statuses?: boolean } | { type: 'stop' };

const config = loadConfig(process.env, []);
const daemon = await startDaemon(config, createLogger({ level: config.logLevel }));
const openCalls = daemon.db.$client.prepare('SELECT count(*) AS n FROM calls WHERE final = 0');
const byStatus = daemon.db.$client.prepare('SELECT status, count(*) AS n FROM calls GROUP BY status');

let probesMs = 0;
const cpuNow = () => {
  const cpu = process.cpuUsage();
  return (cpu.user + cpu.system) / 1000;
};

process.on('message', (msg: Request) => {
  if (msg.type === 'state') {
    const t0 = cpuNow();
    const open = (openCalls.get() as { n: number }).n;
    const notOnline = msg.sips.filter((s) => daemon.presence.status(s) !== 'online').length;
    const statuses = msg.statuses ? Object.fromEntries((byStatus.all() as Array<{ status: string; n: number }>).map((r) => [r.status, r.n])) : {};
    process.send!({ type: 'state', open, notOnline, ami: daemon.ami.connected, ari: daemon.ari?.connected ?? false, statuses, cpuMs: t0 - probesMs });
    probesMs += cpuNow() - t0;
  } else if (msg.type === 'stop') {
    void daemon.stop().then(() => process.exit(0));
  }
});
process.on('disconnect', () => void daemon.stop().then(() => process.exit(0)));
process.send!({ type: 'ready', port: daemon.port });
