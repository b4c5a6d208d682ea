/// The dashboard page: one HTML document with its style and script inline (no external scripts, styles or fonts).
///
/// The script reads `/v1/bats/budget` every few seconds and fills in today's and this month's spend against the limits,
/// spend by model, tier and agent, the day-by-day chart (`/dashboard/chart.svg`) and the latest refusals and
/// downgrades. Amounts are shown in dollars to the micro-dollar. Once filled, `<body>` carries `data-as-of` with the
/// budget's time, so a test (or a person) can tell the page has loaded.
enum DashboardPage {
    static func html(refreshSeconds: Int) -> String {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>BATS budget</title>
        <style>
        body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #1d2330; background: #f7f8fa; }
        h1 { font-size: 20px; margin: 0 0 4px 0; } h2 { font-size: 15px; margin: 20px 0 6px 0; }
        .muted { color: #6b7280; font-size: 12px; }
        .cards { display: flex; gap: 16px; flex-wrap: wrap; }
        .card { background: #fff; border: 1px solid #e3e6ea; border-radius: 8px; padding: 12px 16px; min-width: 280px; }
        .card table td { padding: 2px 10px 2px 0; }
        .bar { height: 8px; background: #e8ebef; border-radius: 4px; overflow: hidden; margin-top: 6px; }
        .bar > div { height: 8px; background: #2f6fdf; width: 0; }
        .bar.over > div { background: #d64545; }
        table.grid { border-collapse: collapse; background: #fff; font-size: 13px; }
        table.grid th, table.grid td { border: 1px solid #e3e6ea; padding: 3px 8px; text-align: left; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        .cols { display: flex; gap: 16px; flex-wrap: wrap; align-items: flex-start; }
        #chart { max-width: 100%; background: #fff; border: 1px solid #e3e6ea; }
        #error { color: #b42318; }
        </style>
        </head>
        <body data-refresh="\(refreshSeconds)">
        <h1>BATS budget</h1>
        <div class="muted">as of <span id="as-of">…</span>, time zone <span id="time-zone">…</span>; refreshes every \(refreshSeconds) s. <span id="error"></span></div>
        <div class="cards">
          <div class="card" id="card-day"><b>Today</b> <span class="muted" id="day-key"></span>
            <table><tr><td>spent</td><td class="num" id="day-spent"></td></tr>
            <tr><td>reserved</td><td class="num" id="day-reserved"></td></tr>
            <tr><td>limit</td><td class="num" id="day-limit"></td></tr>
            <tr><td>remaining</td><td class="num" id="day-remaining"></td></tr></table>
            <div class="bar" id="day-bar"><div></div></div></div>
          <div class="card" id="card-month"><b>This month</b> <span class="muted" id="month-key"></span>
            <table><tr><td>spent</td><td class="num" id="month-spent"></td></tr>
            <tr><td>reserved</td><td class="num" id="month-reserved"></td></tr>
            <tr><td>limit</td><td class="num" id="month-limit"></td></tr>
            <tr><td>remaining</td><td class="num" id="month-remaining"></td></tr>
            <tr><td>month-end forecast</td><td class="num" id="month-forecast"></td></tr></table>
            <div class="bar" id="month-bar"><div></div></div></div>
        </div>
        <h2>Scopes</h2>
        <table class="grid" id="scopes"><thead><tr><th>scope</th><th class="num">today</th><th class="num">daily limit</th><th class="num">this month</th><th class="num">monthly limit</th></tr></thead><tbody></tbody></table>
        <h2>Spend</h2>
        <div class="cols">
          <table class="grid" id="by-model"><thead><tr><th>model</th><th class="num">calls today</th><th class="num">today</th><th class="num">this month</th></tr></thead><tbody></tbody></table>
          <table class="grid" id="by-tier"><thead><tr><th>tier</th><th class="num">calls today</th><th class="num">today</th><th class="num">this month</th></tr></thead><tbody></tbody></table>
          <table class="grid" id="by-agent"><thead><tr><th>agent</th><th class="num">calls today</th><th class="num">today</th><th class="num">this month</th></tr></thead><tbody></tbody></table>
        </div>
        <h2>Day by day</h2>
        <img id="chart" alt="daily spend by model against the daily limit" src="/dashboard/chart.svg">
        <h2>Recent refusals and downgrades</h2>
        <table class="grid" id="recent"><thead><tr><th>time</th><th>decision</th><th>tier</th><th>model</th><th>task</th><th>agent</th><th>request</th></tr></thead><tbody></tbody></table>
        <script>
        "use strict";
        function usd(v) { return v === null || v === undefined ? "unlimited" : "$" + Number(v).toFixed(6); }
        function text(id, v) { document.getElementById(id).textContent = v; }
        function cell(tr, v, num) { var td = document.createElement("td"); td.textContent = v; if (num) td.className = "num"; tr.appendChild(td); }
        function bar(id, spent, limit) {
          var el = document.getElementById(id), w = limit ? Math.min(100, 100 * spent / limit) : 0;
          el.firstElementChild.style.width = w + "%"; el.className = "bar" + (limit && spent > limit ? " over" : "");
        }
        function window_(prefix, w) {
          text(prefix + "-key", w.key); text(prefix + "-spent", usd(w.settled_usd)); text(prefix + "-reserved", usd(w.reserved_usd));
          text(prefix + "-limit", usd(w.limit_usd)); text(prefix + "-remaining", usd(w.remaining_usd));
          bar(prefix + "-bar", Number(w.settled_usd) + Number(w.reserved_usd), w.limit_usd === null ? 0 : Number(w.limit_usd));
        }
        function groups(id, today, month) {
          var body = document.querySelector("#" + id + " tbody"), names = {}, t = {}, m = {};
          today.forEach(function (r) { names[r.group] = 1; t[r.group] = r; });
          month.forEach(function (r) { names[r.group] = 1; m[r.group] = r; });
          body.textContent = "";
          Object.keys(names).sort().forEach(function (g) {
            var tr = document.createElement("tr"); tr.dataset.group = g;
            cell(tr, g); cell(tr, t[g] ? t[g].calls : 0, true); cell(tr, usd(t[g] ? t[g].spent_usd : 0), true); cell(tr, usd(m[g] ? m[g].spent_usd : 0), true);
            body.appendChild(tr);
          });
        }
        function render(b) {
          text("as-of", b.as_of); text("time-zone", b.time_zone);
          window_("day", b.day); window_("month", b.month);
          var f = b.forecast.filter(function (x) { return !x.scope; })[0];
          text("month-forecast", f ? usd(f.projected_month_end_usd) : "-");
          var sb = document.querySelector("#scopes tbody"); sb.textContent = "";
          b.scopes.forEach(function (s) {
            var tr = document.createElement("tr"); tr.dataset.scope = s.name;
            cell(tr, s.name); cell(tr, usd(s.day.settled_usd), true); cell(tr, usd(s.day.limit_usd), true);
            cell(tr, usd(s.month.settled_usd), true); cell(tr, usd(s.month.limit_usd), true); sb.appendChild(tr);
          });
          groups("by-model", b.today.by_model, b.this_month.by_model);
          groups("by-tier", b.today.by_tier, b.this_month.by_tier);
          groups("by-agent", b.today.by_agent, b.this_month.by_agent);
          var rb = document.querySelector("#recent tbody"); rb.textContent = "";
          b.recent.forEach(function (d) {
            var tr = document.createElement("tr"); tr.title = d.detail || "";
            cell(tr, d.time); cell(tr, d.decision); cell(tr, d.tier); cell(tr, d.model); cell(tr, d.task || ""); cell(tr, d.agent || ""); cell(tr, d.request_id);
            rb.appendChild(tr);
          });
          document.getElementById("chart").src = "/dashboard/chart.svg?t=" + encodeURIComponent(b.as_of);
          document.body.dataset.asOf = b.as_of;
        }
        function refresh() {
          fetch("/v1/bats/budget", { cache: "no-store" })
            .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
            .then(function (b) { text("error", ""); render(b); })
            .catch(function (e) { text("error", "could not read the budget: " + e.message); });
        }
        refresh();
        setInterval(refresh, \(refreshSeconds * 1000));
        </script>
        </body>
        </html>

        """
    }
}
