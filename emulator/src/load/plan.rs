//! The load plan: which source field (CSV position / JSON key) feeds which table column, what
//! fills the columns the load does not supply, where `__op` comes from, and how one parsed
//! record becomes a `LoadRow` or a filtered row with StarRocks' message.

use std::sync::Arc;

use starrocks_emulator_store::model::{Column, KeysType, LoadRow, RowOp, TableSchema, Value};

use super::convert::{convert, type_name, Src};
use super::params::{Expr, LoadParams};

#[derive(Debug, Clone, PartialEq)]
pub enum ColSource {
    /// Index into the record's source fields.
    Field(usize),
    /// A constant from `columns`, converted per row like a CSV field.
    Const(String),
    /// DEFAULT / NULL for a column the load does not supply.
    Fill(Option<Value>),
    /// Partial update: a column this load does not write.
    Unwritten,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OpSource {
    Upsert,
    Const(RowOp),
    Field(usize),
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub schema: Arc<TableSchema>,
    /// Source field names: CSV positions / JSON keys (or jsonpaths targets), in order.
    pub sources: Vec<String>,
    pub column_from: Vec<ColSource>,
    pub op: OpSource,
    pub partial_columns: Option<Vec<usize>>,
    pub merge_condition: Option<usize>,
    pub strict: bool,
}

pub const OP_COLUMN: &str = "__op";

impl Plan {
    /// Build the plan; errors are plan-time failures of the whole load (StarRocks' messages where
    /// known).
    pub fn new(schema: Arc<TableSchema>, p: &LoadParams, is_json: bool) -> Result<Plan, String> {
        let pk = schema.keys_type == KeysType::Primary;
        if p.partial_update && !pk {
            return Err("Only primary key table support partial update".into());
        }
        let mut sources: Vec<String> = Vec::new();
        let mut column_from = vec![ColSource::Unwritten; schema.columns.len()];
        let mut supplied = vec![false; schema.columns.len()];
        let mut op = OpSource::Upsert;
        match &p.columns {
            None => {
                for (i, c) in schema.columns.iter().enumerate() {
                    sources.push(c.name.clone());
                    column_from[i] = ColSource::Field(i);
                    supplied[i] = true;
                }
                // JSON rows carry `__op` on their own when `columns` does not name it.
                if pk && is_json {
                    op = OpSource::Field(sources.len());
                    sources.push(OP_COLUMN.to_string());
                }
            }
            Some(specs) => {
                for s in specs.iter().filter(|s| s.expr.is_none()) {
                    sources.push(s.name.clone());
                }
                let src_index = |name: &str| sources.iter().position(|n| n.eq_ignore_ascii_case(name));
                for s in specs {
                    if pk && s.name.eq_ignore_ascii_case(OP_COLUMN) {
                        op = match &s.expr {
                            None => OpSource::Field(src_index(&s.name).unwrap()),
                            Some(Expr::Source(x)) => OpSource::Field(src_index(x).ok_or_else(|| unknown_ref(x))?),
                            Some(Expr::Const(c)) => OpSource::Const(parse_op_const(c)?),
                            Some(Expr::Null) => OpSource::Upsert,
                        };
                        continue;
                    }
                    let Some(ci) = schema.column_index(&s.name) else { continue }; // placeholder
                    column_from[ci] = match &s.expr {
                        None => ColSource::Field(src_index(&s.name).unwrap()),
                        Some(Expr::Source(x)) => ColSource::Field(src_index(x).ok_or_else(|| unknown_ref(x))?),
                        Some(Expr::Const(c)) => ColSource::Const(c.clone()),
                        Some(Expr::Null) => ColSource::Fill(None),
                    };
                    supplied[ci] = true;
                }
                // JSON rows still carry their own `__op` when `columns` does not name it.
                let names_op = specs.iter().any(|s| s.name.eq_ignore_ascii_case(OP_COLUMN));
                if pk && is_json && !names_op {
                    op = OpSource::Field(sources.len());
                    sources.push(OP_COLUMN.to_string());
                }
            }
        }
        let partial_columns = if p.partial_update {
            let cols: Vec<usize> = (0..schema.columns.len()).filter(|&i| supplied[i]).collect();
            for &k in &schema.key_columns {
                if !supplied[k] {
                    return Err(format!("key column {} not in partial update columns", schema.columns[k].name));
                }
            }
            Some(cols)
        } else {
            for (i, c) in schema.columns.iter().enumerate() {
                if !supplied[i] {
                    column_from[i] = ColSource::Fill(match &c.default {
                        Some(v) => v.clone(),
                        None if c.nullable => None,
                        None => return Err(format!("Column has no default value. column: {}", c.name)),
                    });
                }
            }
            None
        };
        let merge_condition = match &p.merge_condition {
            None => None,
            Some(name) => {
                let i = schema.column_index(name).ok_or_else(|| format!("Invalid merge condition column: {name}, column does not exist"))?;
                if !pk {
                    return Err("merge condition is only supported by primary key tables".into());
                }
                if schema.columns[i].is_key {
                    return Err(format!("Invalid merge condition column: {name}, merge condition can not be a key column"));
                }
                Some(i)
            }
        };
        Ok(Plan { schema, sources, column_from, op, partial_columns, merge_condition, strict: p.strict_mode })
    }

    /// Turn one record's source fields (`fields.len() == self.sources.len()`) into a row, or the
    /// message of why the row is filtered.
    pub fn build_row(&self, fields: &[Src]) -> Result<LoadRow, String> {
        let cols = &self.schema.columns;
        let mut values = Vec::with_capacity(cols.len());
        for (i, (col, from)) in cols.iter().zip(&self.column_from).enumerate() {
            let v = match from {
                ColSource::Field(f) => self.convert_checked(&fields[*f], col, i)?,
                ColSource::Const(c) => self.convert_checked(&Src::Text(c.as_str().into()), col, i)?,
                ColSource::Fill(v) => v.clone(),
                ColSource::Unwritten => {
                    values.push(None);
                    continue;
                }
            };
            if v.is_none() && !col.nullable {
                return Err(format!("NULL value in non-nullable column '{}'", col.name));
            }
            values.push(v);
        }
        let op = match &self.op {
            OpSource::Upsert => RowOp::Upsert,
            OpSource::Const(op) => *op,
            OpSource::Field(f) => match &fields[*f] {
                Src::Null => RowOp::Upsert,
                Src::Num(s) => parse_op_value(s)?,
                Src::Text(s) | Src::JsonStr(s) => parse_op_value(s.trim())?,
                other => return Err(bad_op(&other.display())),
            },
        };
        Ok(LoadRow { op, values })
    }

    fn convert_checked(&self, src: &Src, col: &Column, pos: usize) -> Result<Option<Value>, String> {
        match convert(src, col) {
            Ok(v) => Ok(v),
            Err(_) if self.strict => {
                let shown = src.display();
                Err(format!(
                    "The field (name = {}, pos = {}) is out of range. Type: {}, Value length: {}, Value: {}",
                    col.name,
                    pos,
                    type_name(&col.ty),
                    shown.len(),
                    shown
                ))
            }
            // Non-strict: the value becomes NULL; the NOT NULL check in build_row decides.
            Err(_) => Ok(None),
        }
    }
}

fn unknown_ref(x: &str) -> String {
    format!("Unknown column '{x}' in the columns header")
}

fn parse_op_const(c: &str) -> Result<RowOp, String> {
    match c.to_ascii_lowercase().as_str() {
        "upsert" | "0" => Ok(RowOp::Upsert),
        "delete" | "1" => Ok(RowOp::Delete),
        _ => Err(format!("load op type string not supported: {c}")),
    }
}

fn bad_op(v: &str) -> String {
    // Not a StarRocks message: the reference leaves values other than 0/1 undefined.
    format!("Invalid __op value: {v}. Only 0 (upsert) and 1 (delete) are supported")
}

fn parse_op_value(s: &str) -> Result<RowOp, String> {
    match s {
        "0" => Ok(RowOp::Upsert),
        "1" => Ok(RowOp::Delete),
        _ => Err(bad_op(s)),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use starrocks_emulator_store::model::ColumnType;

    pub fn schema(pk: bool) -> Arc<TableSchema> {
        let c = |name: &str, ty, nullable, default, is_key| Column { name: name.into(), ty, nullable, default, is_key };
        Arc::new(TableSchema {
            db: "db".into(),
            name: "t".into(),
            columns: vec![
                c("id", ColumnType::Int, false, None, true),
                c("name", ColumnType::Varchar(5), true, None, false),
                c("score", ColumnType::Int, false, Some(Some(Value::Int(7))), false),
            ],
            keys_type: if pk { KeysType::Primary } else { KeysType::Duplicate },
            key_columns: vec![0],
        })
    }

    fn params(columns: Option<&str>) -> LoadParams {
        let mut h = hyper::HeaderMap::new();
        if let Some(c) = columns {
            h.insert("columns", c.parse().unwrap());
        }
        LoadParams::from_headers(&h, false).unwrap()
    }

    fn t(s: &str) -> Src<'_> {
        Src::Text(s.into())
    }

    #[test]
    fn default_fills_unlisted_column_and_placeholder_ignored() {
        let plan = Plan::new(schema(false), &params(Some("id,junk,name")), false).unwrap();
        assert_eq!(plan.sources, vec!["id", "junk", "name"]);
        let row = plan.build_row(&[t("1"), t("zzz"), t("ab")]).unwrap();
        assert_eq!(row.values, vec![Some(Value::Int(1)), Some(Value::Str("ab".into())), Some(Value::Int(7))]);
    }

    #[test]
    fn missing_default_is_a_plan_error() {
        let e = Plan::new(schema(false), &params(Some("name")), false).unwrap_err();
        assert_eq!(e, "Column has no default value. column: id");
    }

    #[test]
    fn non_strict_nulls_and_not_null_filter() {
        let plan = Plan::new(schema(false), &params(None), false).unwrap();
        let row = plan.build_row(&[t("1"), t("toolong"), t("2")]).unwrap();
        assert_eq!(row.values[1], None, "too long into nullable column is NULL when not strict");
        assert_eq!(plan.build_row(&[t("x"), t("a"), t("2")]).unwrap_err(), "NULL value in non-nullable column 'id'");
    }

    #[test]
    fn strict_mode_message() {
        let mut p = params(None);
        p.strict_mode = true;
        let plan = Plan::new(schema(false), &p, false).unwrap();
        assert_eq!(
            plan.build_row(&[t("1"), t("toolong"), t("2")]).unwrap_err(),
            "The field (name = name, pos = 1) is out of range. Type: VARCHAR(5), Value length: 7, Value: toolong"
        );
    }

    #[test]
    fn op_from_columns_and_json_auto() {
        let plan = Plan::new(schema(true), &params(Some("id,name,score,tmp,__op=tmp")), false).unwrap();
        assert_eq!(plan.build_row(&[t("1"), t("a"), t("2"), t("1")]).unwrap().op, RowOp::Delete);
        let plan = Plan::new(schema(true), &params(Some("id,__op='delete'")), false);
        assert!(plan.is_ok());
        assert_eq!(Plan::new(schema(true), &params(Some("id,__op='zap'")), false).unwrap_err(), "load op type string not supported: zap");
        let plan = Plan::new(schema(true), &params(None), true).unwrap();
        assert_eq!(plan.sources.last().unwrap(), "__op");
        assert_eq!(plan.build_row(&[t("1"), Src::Null, t("2"), Src::Num("1")]).unwrap().op, RowOp::Delete);
        assert!(plan.build_row(&[t("1"), Src::Null, t("2"), Src::Num("2")]).is_err());
        let plan = Plan::new(schema(true), &params(Some("id,name")), true).unwrap();
        assert_eq!(plan.sources, vec!["id", "name", "__op"], "JSON reads __op even with a columns header");
        assert_eq!(plan.build_row(&[t("1"), Src::Null, Src::Num("1")]).unwrap().op, RowOp::Delete);
        assert_eq!(Plan::new(schema(true), &params(Some("id,name")), false).unwrap().sources.len(), 2, "not for CSV");
        // Duplicate Key: no automatic __op source.
        assert_eq!(Plan::new(schema(false), &params(None), true).unwrap().sources.len(), 3);
    }

    #[test]
    fn partial_update_rules() {
        let mut p = params(Some("id,name"));
        p.partial_update = true;
        assert_eq!(Plan::new(schema(false), &p, false).unwrap_err(), "Only primary key table support partial update");
        let plan = Plan::new(schema(true), &p, false).unwrap();
        assert_eq!(plan.partial_columns, Some(vec![0, 1]));
        let mut p = params(Some("name"));
        p.partial_update = true;
        assert_eq!(Plan::new(schema(true), &p, false).unwrap_err(), "key column id not in partial update columns");
    }
}
