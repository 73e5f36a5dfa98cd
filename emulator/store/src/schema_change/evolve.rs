//! Moving rows from one schema of a table to the next: the existing rows at FINISHED, and load
//! batches that were planned against an older schema and commit after it. Columns are matched by
//! name (a MODIFY keeps the name, an ADD brings a new one).

use crate::catalog::Table;
use crate::model::{Column, LoadBatch, LoadRow, Row, RowOp, TableSchema, Value};
use crate::types;

/// What a row that predates a column reads in it: the DEFAULT, else NULL.
fn fill(c: &Column) -> Option<Value> {
    match &c.default {
        Some(Some(v)) => Some(v.clone()),
        _ => None,
    }
}

/// For each column of `new`, its index in `old` (None for an added column).
fn column_map(old: &TableSchema, new: &TableSchema) -> Vec<Option<usize>> {
    new.columns
        .iter()
        .map(|c| old.column_index(&c.name))
        .collect()
}

/// The rows of `old` in `new`'s layout, values converted where the type changed (through their
/// text, as a cast would). A value that does not fit fails the whole conversion: StarRocks'
/// conversion task fails and the job is cancelled.
pub fn convert_rows(
    old: &TableSchema,
    new: &TableSchema,
    rows: &[&Row],
) -> Result<Vec<Row>, String> {
    let map = column_map(old, new);
    rows.iter()
        .map(|r| {
            new.columns
                .iter()
                .zip(&map)
                .map(|(c, m)| match m {
                    None => Ok(fill(c)),
                    Some(i) => convert_value(&old.columns[*i], c, &r[*i]),
                })
                .collect()
        })
        .collect()
}

fn convert_value(from: &Column, to: &Column, v: &Option<Value>) -> Result<Option<Value>, String> {
    let Some(v) = v else { return Ok(None) };
    if from.ty == to.ty {
        return Ok(Some(v.clone()));
    }
    let text = types::display(&from.ty, v);
    types::from_text(&to.ty, &text).map(Some).map_err(|e| {
        format!(
            "Failed to convert value '{text}' of column {} from {} to {}: {e}",
            to.name,
            types::type_name(&from.ty),
            types::type_name(&to.ty)
        )
    })
}

pub fn upserts(rows: Vec<Row>) -> LoadBatch {
    LoadBatch {
        rows: rows
            .into_iter()
            .map(|values| LoadRow {
                op: RowOp::Upsert,
                values,
            })
            .collect(),
        partial_columns: None,
        merge_condition: None,
    }
}

/// A batch planned against one of the table's earlier schemas, in the current layout: rows
/// loaded while a schema change ran commit after it finished and lack the added columns.
/// Batches already in the current layout (or of an unknown one) pass unchanged.
pub fn fit_batch(table: &Table, batch: LoadBatch) -> LoadBatch {
    let width = table.schema.columns.len();
    let Some(w) = batch.rows.first().map(|r| r.values.len()) else {
        return batch;
    };
    if w == width {
        return batch;
    }
    let Some(old) = table.history.iter().rev().find(|s| s.columns.len() == w) else {
        return batch;
    };
    let new = &table.schema;
    let map = column_map(old, new);
    let rename = |i: usize| new.column_index(&old.columns[i].name);
    LoadBatch {
        rows: batch
            .rows
            .into_iter()
            .map(|mut r| LoadRow {
                op: r.op,
                values: new
                    .columns
                    .iter()
                    .zip(&map)
                    .map(|(c, m)| match m {
                        Some(i) => r.values[*i].take(),
                        None => fill(c),
                    })
                    .collect(),
            })
            .collect(),
        partial_columns: batch
            .partial_columns
            .map(|cols| cols.into_iter().filter_map(rename).collect()),
        merge_condition: batch.merge_condition.and_then(rename),
    }
}
