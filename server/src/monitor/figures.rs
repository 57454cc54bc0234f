//! From Prometheus text to the monitor's figures: the samples of one scrape, and what
//! two scrapes `interval` apart say about the time between them (rates, latencies).
//!
//! The monitor reads the same `/metrics` an operator's Prometheus reads, so what it shows
//! is what the dashboards show. Latency quantiles come from the histogram's buckets the
//! way PromQL's `histogram_quantile` computes them: linear within the bucket that holds
//! the quantile.

use std::collections::BTreeMap;

/// One sample line: `name{label="value",…} 12.5`.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// The samples of one scrape.
#[derive(Clone, Debug, Default)]
pub struct Scrape {
    pub samples: Vec<Sample>,
}

/// Most sample lines one scrape may hold (a bound on what a confused server can make the
/// monitor allocate).
const MAX_SAMPLES: usize = 100_000;

impl Scrape {
    /// Parses the text exposition format (0.0.4); comments and malformed lines are skipped.
    pub fn parse(text: &str) -> Scrape {
        let samples = text
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .filter_map(parse_line)
            .take(MAX_SAMPLES)
            .collect();
        Scrape { samples }
    }

    /// The samples named `name` whose labels include every pair of `labels`.
    fn matching<'a>(
        &'a self,
        name: &'a str,
        labels: &'a [(&'a str, &'a str)],
    ) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples.iter().filter(move |s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).is_some_and(|have| have == v))
        })
    }

    /// The sum of the matching samples; `None` when there are none.
    pub fn sum(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let mut matching = self.matching(name, labels).peekable();
        matching.peek()?;
        Some(matching.map(|s| s.value).sum())
    }

    /// The smallest matching sample.
    pub fn min(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.matching(name, labels)
            .map(|s| s.value)
            .reduce(f64::min)
    }

    /// A histogram's cumulative buckets (upper bound, count), count and sum.
    pub fn histogram(&self, name: &str, labels: &[(&str, &str)]) -> Histogram {
        let mut buckets: Vec<(f64, f64)> = self
            .matching(&format!("{name}_bucket"), labels)
            .filter_map(|s| {
                let le = s.labels.get("le")?;
                let bound = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().ok()?
                };
                Some((bound, s.value))
            })
            .collect();
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        Histogram {
            buckets,
            count: self.sum(&format!("{name}_count"), labels).unwrap_or(0.0),
            sum: self.sum(&format!("{name}_sum"), labels).unwrap_or(0.0),
        }
    }
}

fn parse_line(line: &str) -> Option<Sample> {
    let (series, value) = line.trim().rsplit_once(' ')?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        other => other.parse().ok()?,
    };
    let (name, labels) = match series.split_once('{') {
        None => (series, BTreeMap::new()),
        Some((name, rest)) => (name, parse_labels(rest.strip_suffix('}')?)?),
    };
    Some(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

/// `k="v",k2="v\"2"` → pairs, with the format's escapes (`\\`, `\"`, `\n`) undone.
fn parse_labels(text: &str) -> Option<BTreeMap<String, String>> {
    let mut labels = BTreeMap::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (key, after) = rest.split_once("=\"")?;
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next()? {
                (i, '"') => break i,
                (_, '\\') => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                (_, c) => value.push(c),
            }
        };
        labels.insert(key.trim_start_matches(',').to_owned(), value);
        rest = after[end + 1..].trim_start_matches(',');
    }
    Some(labels)
}

/// A latency histogram as scraped, or the difference of two scrapes of it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Histogram {
    /// Cumulative counts by upper bound, ascending, ending at +Inf.
    pub buckets: Vec<(f64, f64)>,
    pub count: f64,
    pub sum: f64,
}

impl Histogram {
    /// What happened between `earlier` and `self`.
    pub fn since(&self, earlier: &Histogram) -> Histogram {
        let buckets = self
            .buckets
            .iter()
            .map(|&(bound, count)| {
                let before = earlier
                    .buckets
                    .iter()
                    .find(|(b, _)| *b == bound)
                    .map_or(0.0, |(_, c)| *c);
                (bound, (count - before).max(0.0))
            })
            .collect();
        Histogram {
            buckets,
            count: (self.count - earlier.count).max(0.0),
            sum: (self.sum - earlier.sum).max(0.0),
        }
    }

    /// The mean in seconds; `None` without observations.
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0.0).then(|| self.sum / self.count)
    }

    /// The `q` quantile in seconds, as `histogram_quantile` estimates it.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        assert!((0.0..=1.0).contains(&q), "a quantile is within 0..1");
        let total = self.buckets.last()?.1;
        if total <= 0.0 {
            return None;
        }
        let rank = q * total;
        let mut lower = (0.0, 0.0);
        for &(bound, count) in &self.buckets {
            if count >= rank {
                if bound.is_infinite() {
                    // Beyond the last finite bucket: its bound is all that is known.
                    return Some(lower.0);
                }
                let in_bucket = count - lower.1;
                let fraction = if in_bucket > 0.0 {
                    (rank - lower.1) / in_bucket
                } else {
                    1.0
                };
                return Some(lower.0 + (bound - lower.0) * fraction);
            }
            lower = (bound, count);
        }
        Some(lower.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# HELP bytedata_uptime_seconds Seconds since the server started
# TYPE bytedata_uptime_seconds gauge
bytedata_uptime_seconds 5025.5
bytedata_database_keys{database="a"} 10000
bytedata_database_keys{database="b \"quoted\""} 432
bytedata_lat_bucket{kind="point_read",le="0.001"} 90
bytedata_lat_bucket{kind="point_read",le="0.002"} 100
bytedata_lat_bucket{kind="point_read",le="+Inf"} 100
bytedata_lat_sum{kind="point_read"} 0.1
bytedata_lat_count{kind="point_read"} 100
not a sample line
"#;

    #[test]
    fn parses_samples_and_labels() {
        let scrape = Scrape::parse(TEXT);
        assert_eq!(scrape.sum("bytedata_uptime_seconds", &[]), Some(5025.5));
        assert_eq!(scrape.sum("bytedata_database_keys", &[]), Some(10432.0));
        assert_eq!(
            scrape.sum("bytedata_database_keys", &[("database", "b \"quoted\"")]),
            Some(432.0)
        );
        assert_eq!(scrape.sum("bytedata_missing", &[]), None);
    }

    #[test]
    fn quantiles_interpolate_within_a_bucket() {
        let scrape = Scrape::parse(TEXT);
        let histogram = scrape.histogram("bytedata_lat", &[("kind", "point_read")]);
        assert_eq!(histogram.mean(), Some(0.001));
        let p50 = histogram.quantile(0.5).expect("observations");
        assert!((p50 - 0.5 / 0.9 * 0.001).abs() < 1e-12, "{p50}");
        let p99 = histogram.quantile(0.99).expect("observations");
        assert!((p99 - 0.0019).abs() < 1e-12, "{p99}");
    }

    #[test]
    fn differences_cover_only_the_interval() {
        let earlier = Scrape::parse(TEXT).histogram("bytedata_lat", &[("kind", "point_read")]);
        let later_text = TEXT
            .replace("le=\"0.002\"} 100", "le=\"0.002\"} 110")
            .replace("le=\"+Inf\"} 100", "le=\"+Inf\"} 110")
            .replace(
                "_sum{kind=\"point_read\"} 0.1",
                "_sum{kind=\"point_read\"} 0.12",
            )
            .replace(
                "_count{kind=\"point_read\"} 100",
                "_count{kind=\"point_read\"} 110",
            );
        let later = Scrape::parse(&later_text).histogram("bytedata_lat", &[("kind", "point_read")]);
        let interval = later.since(&earlier);
        assert_eq!(interval.count, 10.0);
        let mean = interval.mean().expect("observations");
        assert!((mean - 0.002).abs() < 1e-12, "{mean}");
        let p99 = interval.quantile(0.99).expect("observations");
        assert!(
            p99 > 0.001 && p99 <= 0.002,
            "all ten fell in (1 ms, 2 ms]: {p99}"
        );
        assert_eq!(Histogram::default().quantile(0.99), None);
    }
}
