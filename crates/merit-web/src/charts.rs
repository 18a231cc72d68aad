//! The charts pages describe for `static/merit.js` (Apache ECharts): plain
//! JSON in a `data-chart` attribute. Every point carries its figure's text
//! and, where there is one, the link to the rows behind it. Each chart is
//! drawn next to a table with the same figures (the table alternative).

use merit_domain::metrics::Figure;
use serde_json::{Value, json};

/// One point: the number drawn, the text shown for it, where it leads.
pub fn point(figure: &Figure, url: Option<String>) -> Value {
    json!({"value": figure.value, "label": figure.display(), "url": url})
}

/// A line or bar chart over the categories `x`, one series per `(name, points)`.
pub fn series_chart(
    kind: &str,
    title: &str,
    unit: &str,
    x: Vec<String>,
    series: Vec<(String, Vec<Value>)>,
) -> Value {
    json!({
        "kind": kind,
        "title": title,
        "unit": unit,
        "x": x,
        "series": series
            .into_iter()
            .map(|(name, points)| json!({"name": name, "points": points}))
            .collect::<Vec<_>>(),
    })
}

/// A heatmap: `cells` are `{x, y, value, label}` over the axes `x` and `y`.
pub fn heatmap(title: &str, x: Vec<String>, y: Vec<String>, cells: Vec<Value>, max: f64) -> Value {
    json!({"kind": "heatmap", "title": title, "x": x, "y": y, "cells": cells, "min": 0, "max": max})
}
