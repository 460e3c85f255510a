"""The report's stylesheet, inlined into every page (no external file, no web font)."""

CSS = """
:root { --ink:#1d2330; --muted:#5f6b7a; --line:#e3e7ee; --bg:#f5f7fa; --card:#ffffff; --accent:#2d5be3; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "DejaVu Sans", Arial,
    "Noto Sans", "Noto Sans CJK SC", "Noto Sans CJK JP", "PingFang SC", "Hiragino Sans", "Microsoft YaHei",
    "Yu Gothic", "Droid Sans Fallback", "Noto Naskh Arabic", "Noto Sans Hebrew", sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 24px 20px 48px; }
header.top { display:flex; gap:24px; align-items:stretch; flex-wrap:wrap; margin-bottom:18px; }
.verdict { flex: 1 1 360px; background:var(--card); border:1px solid var(--line); border-radius:14px;
  padding:20px 22px; }
.verdict .file { color:var(--muted); font-size:13px; word-break:break-all; }
.verdict h1 { margin:6px 0 4px; font-size:30px; display:flex; align-items:center; gap:12px; }
.pill { display:inline-block; padding:2px 14px; border-radius:999px; font-weight:700; }
.verdict .sub { color:var(--muted); font-size:14px; }
.scores { flex: 1 1 320px; background:var(--card); border:1px solid var(--line); border-radius:14px;
  padding:16px 22px; }
.bar-row { display:grid; grid-template-columns: 92px 1fr 46px; align-items:center; gap:10px; margin:3px 0; }
.bar-row .name { font-size:14px; }
.bar-row .val { font-variant-numeric: tabular-nums; text-align:right; color:var(--muted); font-size:13px; }
.bar { height:12px; background:#edf0f5; border-radius:6px; overflow:hidden; }
.bar > span { display:block; height:100%; border-radius:6px; }
section.card { background:var(--card); border:1px solid var(--line); border-radius:14px; padding:18px 22px;
  margin: 0 0 18px; }
section.card h2 { margin:0 0 12px; font-size:18px; }
.explanation { font-size:16.5px; line-height:1.6; margin:0; border-left:4px solid var(--accent);
  padding:4px 0 4px 14px; }
.gauges { display:grid; grid-template-columns: 1fr 1fr; gap:14px 28px; margin-top:14px; }
.gauge .lbl { font-size:13px; color:var(--muted); display:flex; justify-content:space-between; }
.gauge .track { position:relative; height:10px; background:linear-gradient(90deg,#d9e2f1,#f4f6f9,#f6e3c2);
  border-radius:5px; margin-top:4px; }
.gauge .mark { position:absolute; top:-4px; width:4px; height:18px; background:var(--ink);
  border-radius:2px; }
.gauge .ends { display:flex; justify-content:space-between; font-size:11.5px; color:var(--muted);
  margin-top:2px; }
.gauge .lbl b { color:var(--ink); }
.gauge .mid { position:absolute; left:50%; top:0; width:1px; height:10px; background:#9aa4b2; }
svg.timeline { width:100%; height:auto; display:block; }
svg .track-name { font-size:13px; fill:var(--ink); }
svg .track-bg { fill:#f1f3f7; }
svg .seg-label { font-size:12px; font-weight:600; }
svg .seg-edge { stroke:#ffffff; stroke-width:1.5; }
svg .seg:hover rect { opacity:0.85; }
svg .tick { stroke:#9aa4b2; }
svg .tick-label { font-size:11px; fill:var(--muted); }
.legend { display:flex; flex-wrap:wrap; gap:6px 16px; margin:4px 0 10px; font-size:13px; }
.chip { display:inline-flex; align-items:center; gap:6px; }
.chip i { width:12px; height:12px; border-radius:3px; display:inline-block; }
.two { display:grid; grid-template-columns: minmax(0, 1.25fr) minmax(0, 1fr); gap:22px; align-items:start; }
@media (max-width: 760px) { .two { grid-template-columns: 1fr; } .gauges { grid-template-columns: 1fr; } }
figure { margin:0; }
figure img { max-width:100%; height:auto; border-radius:10px; display:block; border:1px solid var(--line); }
figcaption { color:var(--muted); font-size:13px; margin-top:6px; }
table { width:100%; border-collapse:collapse; font-size:14px; }
th { text-align:left; font-weight:600; color:var(--muted); font-size:12.5px; text-transform:uppercase;
  letter-spacing:.03em; border-bottom:1px solid var(--line); padding:6px 8px; }
td { border-bottom:1px solid #eef1f5; padding:7px 8px; vertical-align:top; }
td.num { font-variant-numeric: tabular-nums; text-align:right; white-space:nowrap; }
td .desc { color:var(--muted); font-size:13px; }
.tag { display:inline-block; padding:0 8px; border-radius:999px; font-size:12.5px; font-weight:600; }
.mod { display:inline-block; padding:0 7px; border-radius:6px; font-size:12.5px; background:#eef1f6; }
.wbar { display:inline-block; width:64px; height:8px; background:#edf0f5; border-radius:4px;
  vertical-align:middle; margin-right:6px; overflow:hidden; }
.wbar > span { display:block; height:100%; background:var(--accent); }
.transcript { font-size:16px; line-height:2.0; }
.transcript .utt { padding:3px 6px; border-radius:6px; margin-right:2px;
  box-decoration-break:clone; -webkit-box-decoration-break:clone; }
.transcript .t { font-size:11px; color:var(--muted); margin-right:4px; font-variant-numeric: tabular-nums; }
.note { color:var(--muted); font-size:13.5px; }
.warn { background:#fff6e0; border:1px solid #f1d58a; border-radius:8px; padding:8px 12px; font-size:14px; }
ul.notes { margin:0; padding-left:20px; }
details summary { cursor:pointer; color:var(--muted); }
pre { background:#f6f8fb; padding:12px; border-radius:8px; overflow:auto; font-size:12.5px; }
footer { color:var(--muted); font-size:12.5px; text-align:center; margin-top:26px; }
.people td.who { min-width:120px; }
.people .thumb { width:64px; height:64px; object-fit:cover; border-radius:10px; display:block;
  border:1px solid var(--line); margin-bottom:4px; }
.people .thumb.none { background:#eef1f6; color:var(--muted); font-size:11px; display:flex;
  align-items:center; justify-content:center; }
.bar-row.mini { grid-template-columns: 70px 90px 36px; margin:2px 0; font-size:12.5px; }
.people table { margin-bottom:12px; }
"""
