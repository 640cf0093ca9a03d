// What a WeakRef on a young 16 KiB Buffer costs (issue 22): a loop of Buffer.alloc(16 KiB), with a
// WeakRef on every 64th or 8th kept (and an ordinary object on every 8th, for comparison); CPU ns
// per Buffer, medians of 40 rounds of 20 000.   taskset -c 0 node weakref-cost.mjs
// cost of WeakRef on every Nth 16 KiB buffer
let refs = []; let sink = 0;
function run(n, every, mode) {
  const t = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const b = Buffer.alloc(16384);
    if (every && i % every === 0) {
      if (mode === 'weak') refs.push(new WeakRef(b));
      else if (mode === 'obj') refs.push({ x: i });
    }
    sink += b.length;
    if (refs.length > 5000) refs = refs.filter(r => r.deref?.() !== undefined || mode === 'obj').slice(-100);
  }
  const u = process.cpuUsage(t); return (u.user + u.system) / n * 1000;
}
const cfg = [['none', 0, ''], ['weak/64', 64, 'weak'], ['weak/8', 8, 'weak'], ['obj/8', 8, 'obj']];
const res = {};
for (let r = 0; r < 40; r++) for (const [name, every, mode] of cfg) { run(2000, every, mode); (res[name] ??= []).push(run(20000, every, mode)); }
const med = a => a.sort((x, y) => x - y)[a.length >> 1];
for (const k in res) console.log(process.version, k.padEnd(8), med(res[k]).toFixed(0), 'ns per Buffer');
