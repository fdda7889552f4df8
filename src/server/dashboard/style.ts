// The dashboard's stylesheet: light and dark by the system's preference, no web fonts.
export const dashboardStyle = String.raw`
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #f6f7f9; --card: #fff; --muted: #6a737d; --line: #d8dde3;
  --accent: #2f6fde; --accent2: #d9822b; --good: #1f883d; --bad: #cf222e; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e8eb; --bg: #111418; --card: #1a1f25; --muted: #8b949e; --line: #2d333b; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; gap: 1rem; align-items: baseline; padding: .8rem 1.2rem; border-bottom: 1px solid var(--line); }
h1 { font-size: 1.2rem; margin: 0; }
h2 { font-size: .85rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 1rem 0 .4rem; }
main, form, footer { padding: 0 1.2rem; }
form { max-width: 28rem; margin-top: 2rem; }
input { padding: .4rem; width: 100%; margin-bottom: .5rem; }
.muted { color: var(--muted); }
.pill { padding: .1rem .5rem; border-radius: 1rem; background: var(--line); font-size: .8rem; }
.pill.ok { background: var(--good); color: #fff; } .pill.down { background: var(--bad); color: #fff; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(7.5rem, 1fr)); gap: .8rem; margin-top: 1rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .7rem .9rem; }
.label { color: var(--muted); font-size: .8rem; }
.value { font-size: 1.3rem; font-variant-numeric: tabular-nums; }
.sub { color: var(--muted); font-size: .75rem; min-height: 1em; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(20rem, 1fr)); gap: .8rem; margin-top: .8rem; }
figure { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .5rem; }
figcaption { color: var(--muted); font-size: .8rem; }
svg { width: 100%; height: 160px; display: block; }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg .axis { fill: var(--muted); font-size: 10px; }
svg .s0 { stroke: var(--accent); fill: none; stroke-width: 2; vector-effect: non-scaling-stroke; }
svg .s1 { stroke: var(--accent2); fill: none; stroke-width: 2; vector-effect: non-scaling-stroke; }
.tables { display: grid; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); gap: .8rem; }
.mcp { display: grid; grid-template-columns: minmax(0, 2fr) minmax(14rem, 1fr); gap: .8rem; }
.mcp p:empty { display: none; }
table { border-collapse: collapse; width: 100%; background: var(--card); font-variant-numeric: tabular-nums; }
th { white-space: nowrap; }
th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid var(--line); font-size: .8rem; }
td.n, th.n { text-align: right; }
.bad { color: var(--bad); } .good { color: var(--good); }
footer { margin: 1.5rem 0; font-size: .75rem; }
`;
