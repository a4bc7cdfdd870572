//! Input validation against the limits of DESIGN.md §8, done once, below both transports and
//! before anything reaches the WAL, so a refused request changes nothing.

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::limits::*;
use crate::model::{CollectionSpec, Metric, Point, SearchQuery};

pub fn collection_name(name: &str) -> Result<()> {
    let valid_chars = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if name.is_empty() || name.len() > COLLECTION_NAME_BYTES_MAX || !valid_chars {
        return Err(Error::invalid(
            "name",
            format!(
                "collection names are 1 to {COLLECTION_NAME_BYTES_MAX} characters of \
                 [A-Za-z0-9_-], got {:?}",
                truncate(name)
            ),
        ));
    }
    Ok(())
}

pub fn collection_spec(spec: &CollectionSpec) -> Result<()> {
    collection_name(&spec.name)?;
    if !(1..=DIMENSION_MAX).contains(&spec.dimension) {
        return Err(Error::invalid(
            "dimension",
            format!("must be 1 to {DIMENSION_MAX}, got {}", spec.dimension),
        ));
    }
    Ok(())
}

pub fn metric(name: &str) -> Result<Metric> {
    Metric::parse(name).ok_or_else(|| {
        Error::invalid(
            "metric",
            format!(
                "unknown metric {:?}; use cosine, l2, dot or poincare",
                truncate(name)
            ),
        )
    })
}

pub fn vector(field: &str, metric: Metric, dimension: usize, vector: &[f32]) -> Result<()> {
    if vector.len() != dimension {
        return Err(Error::invalid(
            field,
            format!("expected {dimension} components, got {}", vector.len()),
        ));
    }
    if let Some(i) = vector.iter().position(|c| !c.is_finite()) {
        return Err(Error::invalid(
            field,
            format!("component {i} is not a finite number"),
        ));
    }
    let norm_sq: f64 = vector.iter().map(|c| f64::from(*c) * f64::from(*c)).sum();
    match metric {
        Metric::Poincare if norm_sq >= 1.0 => Err(Error::invalid(
            field,
            format!("poincare vectors need norm < 1, got {:.6}", norm_sq.sqrt()),
        )),
        Metric::Cosine if norm_sq == 0.0 => {
            Err(Error::invalid(field, "cosine vectors need a non-zero norm"))
        }
        _ => Ok(()),
    }
}

/// A payload must be a JSON object of at most `PAYLOAD_BYTES_MAX` bytes whose numbers are
/// exact IEEE doubles, so that RFC 8785 canonicalization (and so the digest) is exact.
pub fn payload(field: &str, payload: &Map<String, Value>) -> Result<()> {
    let bytes = serde_json::to_vec(payload)
        .expect("a JSON map always serializes")
        .len();
    if bytes > PAYLOAD_BYTES_MAX {
        return Err(Error::PayloadTooLarge {
            what: "payload",
            bytes,
            max: PAYLOAD_BYTES_MAX,
        });
    }
    for value in payload.values() {
        exact_numbers(field, value)?;
    }
    Ok(())
}

fn exact_numbers(field: &str, value: &Value) -> Result<()> {
    match value {
        Value::Number(n) => {
            let exact = if let Some(u) = n.as_u64() {
                u <= PAYLOAD_INTEGER_ABS_MAX
            } else if let Some(i) = n.as_i64() {
                i.unsigned_abs() <= PAYLOAD_INTEGER_ABS_MAX
            } else {
                n.as_f64().is_some_and(f64::is_finite)
            };
            if exact {
                Ok(())
            } else {
                Err(Error::invalid(
                    field,
                    format!("number {n} is not exactly representable as a double (integers within ±2^53)"),
                ))
            }
        }
        Value::Array(items) => items.iter().try_for_each(|v| exact_numbers(field, v)),
        Value::Object(map) => map.values().try_for_each(|v| exact_numbers(field, v)),
        Value::Null | Value::Bool(_) | Value::String(_) => Ok(()),
    }
}

pub fn points(spec: &CollectionSpec, points: &[Point]) -> Result<()> {
    if points.is_empty() || points.len() > POINTS_PER_UPSERT_MAX {
        return Err(Error::invalid(
            "points",
            format!(
                "one upsert takes 1 to {POINTS_PER_UPSERT_MAX} points, got {}",
                points.len()
            ),
        ));
    }
    for (i, point) in points.iter().enumerate() {
        vector(
            &format!("points[{i}].vector"),
            spec.metric,
            spec.dimension,
            &point.vector,
        )?;
        payload(&format!("points[{i}].payload"), &point.payload)?;
    }
    Ok(())
}

pub fn ids(ids: &[u64]) -> Result<()> {
    if ids.is_empty() || ids.len() > IDS_PER_DELETE_MAX {
        return Err(Error::invalid(
            "ids",
            format!(
                "one delete takes 1 to {IDS_PER_DELETE_MAX} ids, got {}",
                ids.len()
            ),
        ));
    }
    Ok(())
}

pub fn search(spec: &CollectionSpec, field: &str, query: &SearchQuery) -> Result<()> {
    vector(
        &format!("{field}vector"),
        spec.metric,
        spec.dimension,
        &query.vector,
    )?;
    if !(1..=TOP_K_MAX).contains(&query.top_k) {
        return Err(Error::invalid(
            format!("{field}top_k"),
            format!("must be 1 to {TOP_K_MAX}, got {}", query.top_k),
        ));
    }
    if let Some(ef) = query.ef {
        if !(1..=EF_SEARCH_MAX).contains(&ef) {
            return Err(Error::invalid(
                format!("{field}ef"),
                format!("must be 1 to {EF_SEARCH_MAX}, got {ef}"),
            ));
        }
    }
    Ok(())
}

/// A batch: 1 to `SEARCHES_PER_BATCH_MAX` queries asking for at most
/// `SEARCH_RESULTS_PER_BATCH_MAX` results in total.
pub fn batch(queries: &[SearchQuery]) -> Result<()> {
    let count = queries.len();
    if !(1..=SEARCHES_PER_BATCH_MAX).contains(&count) {
        return Err(Error::invalid(
            "searches",
            format!("a batch takes 1 to {SEARCHES_PER_BATCH_MAX} searches, got {count}"),
        ));
    }
    let results: usize = queries.iter().map(|q| q.top_k).sum();
    if results > SEARCH_RESULTS_PER_BATCH_MAX {
        return Err(Error::invalid(
            "searches",
            format!(
                "the batch asks for {results} results in total (sum of top_k); at most \
                 {SEARCH_RESULTS_PER_BATCH_MAX}: split it"
            ),
        ));
    }
    Ok(())
}

pub fn scroll_limit(limit: Option<usize>) -> Result<usize> {
    match limit {
        None => Ok(SCROLL_LIMIT_DEFAULT),
        Some(limit) if (1..=SCROLL_LIMIT_MAX).contains(&limit) => Ok(limit),
        Some(limit) => Err(Error::invalid(
            "limit",
            format!("must be 1 to {SCROLL_LIMIT_MAX}, got {limit}"),
        )),
    }
}

pub fn bucket(bucket: u64) -> Result<usize> {
    if bucket < BUCKET_COUNT as u64 {
        Ok(bucket as usize)
    } else {
        Err(Error::invalid(
            "bucket",
            format!("must be 0 to {}, got {bucket}", BUCKET_COUNT - 1),
        ))
    }
}

/// The buckets of a repair request: at least one, each 0..=255 (duplicates collapse).
pub fn repair_buckets(buckets: &[u32]) -> Result<std::collections::BTreeSet<u32>> {
    if buckets.is_empty() {
        return Err(Error::invalid(
            "buckets",
            "name at least one bucket (0 to 255)",
        ));
    }
    buckets
        .iter()
        .map(|b| bucket(u64::from(*b)).map(|b| b as u32))
        .collect()
}

/// Echoes user input in errors without letting a huge string flood a log or response.
fn truncate(s: &str) -> String {
    s.chars().take(80).collect()
}
