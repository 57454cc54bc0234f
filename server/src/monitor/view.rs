//! How the monitor shows its figures: one plain-text summary (`--once`) or a full-screen
//! view redrawn every interval (ratatui), which `q`, Esc or Ctrl-C leaves.

use std::time::Instant;

use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Style, Stylize};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Row, Table};

use super::figures::Scrape;
use super::{Figures, Latency, MonitorArgs};

pub fn duration(seconds: f64) -> String {
    let total = seconds.max(0.0) as u64;
    let (days, hours, minutes, secs) = (
        total / 86_400,
        total / 3600 % 24,
        total / 60 % 60,
        total % 60,
    );
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, _) => format!("{minutes}m{secs:02}s"),
        (0, _, _) => format!("{hours}h{minutes:02}m"),
        _ => format!("{days}d{hours:02}h"),
    }
}

pub fn bytes(count: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = count.max(0.0);
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0} B")
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

/// `10432` → `10,432`.
pub fn thousands(count: f64) -> String {
    let digits = format!("{:.0}", count.max(0.0));
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn millis(ms: f64) -> String {
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

fn latency(name: &str, latency: &Latency) -> String {
    match (latency.mean_ms, latency.p99_ms) {
        (Some(mean), Some(p99)) => format!("{name} avg {}  p99 {}", millis(mean), millis(p99)),
        (Some(mean), None) => format!("{name} avg {}", millis(mean)),
        _ => format!("{name} -"),
    }
}

fn summary(figures: &Figures) -> Vec<String> {
    let connections = match figures.connections_limit {
        Some(limit) => format!(
            "Connections: {}/{}",
            thousands(figures.connections),
            thousands(limit)
        ),
        None => format!("Connections: {}", thousands(figures.connections)),
    };
    let commits = match figures.commits_per_second {
        Some(rate) => format!("Transactions/s: {rate:.0}"),
        None => format!("Commits: {}", thousands(figures.commits)),
    };
    let snapshot = match figures.snapshot_age_seconds {
        Some(age) => format!("Snapshot: {} ago", duration(age)),
        None => "Snapshot: none".to_owned(),
    };
    let wal_sync = match (figures.fsync_mean_ms, figures.commits_per_group) {
        (Some(fsync), Some(group)) => {
            format!("fsync avg {}  commits/group {group:.1}", millis(fsync))
        }
        _ => "fsync -".to_owned(),
    };
    vec![
        format!("Uptime: {}", duration(figures.uptime_seconds)),
        connections,
        commits,
        format!("Keys: {}", thousands(figures.keys)),
        format!("Memory: {}", bytes(figures.memory_bytes)),
        format!("WAL: {}", bytes(figures.wal_bytes)),
        snapshot,
        latency("GET", &figures.point_reads),
        latency("RANGE", &figures.range_reads),
        wal_sync,
    ]
}

/// `--once`: the summary on one line, then the top statements.
pub fn plain(figures: &Figures, database: Option<&str>) -> String {
    let mut out = summary(figures).join("  ");
    if let Some(database) = database {
        out = format!("Database: {database}  {out}");
    }
    out.push('\n');
    if !figures.top.is_empty() {
        out.push_str("Top statements (calls, mean, total, rows, query):\n");
        for statement in &figures.top {
            out.push_str(&format!(
                "{:>10}  {:>10}  {:>12}  {:>10}  {}\n",
                thousands(statement.calls as f64),
                millis(statement.mean_ms),
                millis(statement.total_ms),
                thousands(statement.rows as f64),
                statement.query.replace('\n', " ")
            ));
        }
    }
    out
}

/// Whether a key press asks to leave.
fn quits(event: &Event) -> bool {
    let Event::Key(key) = event else {
        return false;
    };
    key.kind == KeyEventKind::Press
        && (matches!(key.code, KeyCode::Char('q') | KeyCode::Esc)
            || (key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL)))
}

type Refreshed = Result<(Figures, (Scrape, Instant)), String>;

/// The live view: refreshes every interval until the user quits. A failed refresh shows
/// its error and is retried; the terminal is restored however the view ends.
pub fn live(
    args: &MonitorArgs,
    mut refresh: impl FnMut(Option<&(Scrape, Instant)>) -> Refreshed,
) -> Result<(), String> {
    let mut terminal = ratatui::try_init().map_err(|error| format!("terminal: {error}"))?;
    let outcome = (|| -> Result<(), String> {
        let mut earlier: Option<(Scrape, Instant)> = None;
        loop {
            let (figures, error) = match refresh(earlier.as_ref()) {
                Ok((figures, now)) => {
                    earlier = Some(now);
                    (Some(figures), None)
                }
                Err(error) => (None, Some(error)),
            };
            terminal
                .draw(|frame| draw(frame, args, figures.as_ref(), error.as_deref()))
                .map_err(|error| format!("drawing: {error}"))?;
            let deadline = Instant::now() + args.interval;
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                if event::poll(left).map_err(|error| format!("terminal: {error}"))? {
                    let event = event::read().map_err(|error| format!("terminal: {error}"))?;
                    if quits(&event) {
                        return Ok(());
                    }
                    if let Event::Resize(..) = event {
                        break;
                    }
                }
            }
        }
    })();
    ratatui::try_restore().map_err(|error| format!("restoring the terminal: {error}"))?;
    outcome
}

fn draw(
    frame: &mut ratatui::Frame,
    args: &MonitorArgs,
    figures: Option<&Figures>,
    error: Option<&str>,
) {
    let [title, body, top, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(8),
        Constraint::Min(4),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    let scope = args.database.as_deref().unwrap_or("all databases");
    frame.render_widget(
        Line::from(format!("ByteData monitor  {}  ({scope})", args.url)).bold(),
        title,
    );
    let lines: Vec<Line> = match (figures, error) {
        (_, Some(error)) => vec![Line::from(format!("cannot refresh: {error}")).red()],
        (Some(figures), None) => {
            let s = summary(figures);
            vec![
                Line::from(format!("{}   {}", s[0], s[1])),
                Line::from(format!("{}   {}", s[2], s[3])),
                Line::from(format!("{}   {}   {}", s[4], s[5], s[6])),
                Line::from(s[7].clone()),
                Line::from(s[8].clone()),
                Line::from(s[9].clone()),
            ]
        }
        (None, None) => vec![Line::from("waiting for the first scrape")],
    };
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Server ")),
        body,
    );
    let rows: Vec<Row> = figures
        .map(|f| f.top.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|s| {
            Row::new(vec![
                thousands(s.calls as f64),
                millis(s.mean_ms),
                millis(s.total_ms),
                thousands(s.rows as f64),
                s.query.replace('\n', " "),
            ])
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(10),
            Constraint::Length(10),
            Constraint::Length(12),
            Constraint::Length(10),
            Constraint::Min(20),
        ],
    )
    .header(Row::new(vec!["calls", "mean", "total", "rows", "query"]).style(Style::new().bold()))
    .block(Block::bordered().title(" Top statements "));
    frame.render_widget(table, top);
    frame.render_widget(
        Line::from(format!("every {} ms   q quit", args.interval.as_millis())),
        footer,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_for_people() {
        assert_eq!(duration(5025.0), "1h23m");
        assert_eq!(duration(59.0), "59s");
        assert_eq!(duration(61.0), "1m01s");
        assert_eq!(duration(90_000.0), "1d01h");
        assert_eq!(bytes(512.0 * 1024.0 * 1024.0), "512 MiB");
        assert_eq!(bytes(100.0), "100 B");
        assert_eq!(thousands(10_432.0), "10,432");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1_000_000.0), "1,000,000");
    }

    #[test]
    fn once_prints_one_summary_line_and_the_top_statements() {
        let figures = Figures {
            uptime_seconds: 5025.0,
            keys: 10_432.0,
            memory_bytes: 512.0 * 1024.0 * 1024.0,
            wal_bytes: 120.0 * 1024.0 * 1024.0,
            point_reads: Latency {
                mean_ms: Some(0.08),
                p99_ms: Some(0.31),
            },
            range_reads: Latency {
                mean_ms: Some(5.4),
                p99_ms: None,
            },
            top: vec![super::super::TopStatement {
                query: "SELECT v FROM t WHERE id = $1".into(),
                calls: 1200,
                mean_ms: 0.05,
                total_ms: 60.0,
                rows: 1200,
            }],
            ..Figures::default()
        };
        let text = plain(&figures, None);
        let mut lines = text.lines();
        let first = lines.next().expect("a summary line");
        for part in [
            "Uptime: 1h23m",
            "Keys: 10,432",
            "Memory: 512 MiB",
            "WAL: 120 MiB",
            "GET avg 0.08 ms  p99 0.31 ms",
            "RANGE avg 5.40 ms",
        ] {
            assert!(first.contains(part), "{part} in {first}");
        }
        assert!(text.contains("1,200") && text.contains("SELECT v FROM t WHERE id = $1"));
    }
}
