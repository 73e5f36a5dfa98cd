//! The top-level members of a record's row, and where each one's type comes from: its Connect
//! schema, its value (schemaless), or the JSON text the row is. Built on `rows::source`, the same
//! decision the JSON writer makes, so a table is created and evolved for exactly what its rows
//! carry.

use std::borrow::Cow;

use super::column_type::{self, ColumnType};
use crate::boundary::{Batch, SchemaId, Value};
use crate::rows::source::RowSource;

pub struct Field<'v, 'a> {
    pub name: Cow<'v, str>,
    pub ty: FieldType<'v, 'a>,
}

pub enum FieldType<'v, 'a> {
    Schema(SchemaId),
    Value(&'v Value<'a>),
    /// A member of a JSON text row, already inferred (`None`: null).
    Json(Option<ColumnType>),
}

impl Field<'_, '_> {
    /// The column type this field asks for; `None` when nothing says (a schemaless null).
    pub fn column_type(&self, batch: &Batch<'_>) -> Option<ColumnType> {
        match &self.ty {
            FieldType::Schema(id) => Some(column_type::of_schema(batch, *id)),
            FieldType::Value(v) => column_type::of_value(batch, v),
            FieldType::Json(t) => t.clone(),
        }
    }

    /// Whether the field may be NULL: a schema says; schemaless fields always may.
    pub fn optional(&self, batch: &Batch<'_>) -> bool {
        match &self.ty {
            FieldType::Schema(id) => batch.schema(*id).optional,
            _ => true,
        }
    }
}

/// What the row of a record is made of, for the schema guard.
pub enum RowShape {
    /// No row (a tombstone, a change that changes nothing) or a value that is no object: nothing
    /// to compare (the writer reports what is wrong with it).
    None,
    /// JSON text, not parsed: the caller did not ask for it.
    Unparsed,
    /// The members are in the caller's vector.
    Fields,
}

/// The Structs a row's members come from (value, key): the same schemas mean the same fields
/// and types. `(None, None)` for anything else.
pub fn struct_schemas(source: &RowSource<'_, '_>) -> (Option<SchemaId>, Option<SchemaId>) {
    let id = |v: &Value<'_>| if let Value::Struct(id, _) = v { Some(*id) } else { None };
    match source {
        RowSource::Change(row, _) => (id(row), None),
        RowSource::WithKey(value, key) => (id(value), id(key)),
        RowSource::Plain(v) => (id(v), None),
        RowSource::Nothing | RowSource::Text(_) => (None, None),
    }
}

/// The members of a schemaless row that is one map (a plain value or an unwrapped change): the
/// guard's quick comparison reads them without building fields.
pub fn plain_map<'v, 'a>(source: &RowSource<'v, 'a>) -> Option<&'v [(Value<'a>, Value<'a>)]> {
    match source {
        RowSource::Plain(Value::Map(kvs)) | RowSource::Change(Value::Map(kvs), _) => Some(kvs),
        _ => None,
    }
}

/// Fills `fields` (cleared first; one vector serves a whole batch) with the members of the row
/// `source` (`rows::source::row_source` of the record). JSON text is parsed only when
/// `parse_text` (it costs a parse).
pub fn row_fields<'v, 'a>(batch: &Batch<'a>, source: RowSource<'v, 'a>, parse_text: bool, fields: &mut Vec<Field<'v, 'a>>) -> RowShape {
    fields.clear();
    match source {
        RowSource::Nothing => return RowShape::None,
        RowSource::Text(_) if !parse_text => return RowShape::Unparsed,
        RowSource::Text(s) => match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(s) {
            Ok(obj) => fields.extend(obj.into_iter().map(|(k, v)| Field { ty: FieldType::Json(column_type::of_json(&v)), name: Cow::Owned(k) })),
            Err(_) => return RowShape::None,
        },
        RowSource::Change(row, _) => members(batch, row, fields),
        RowSource::WithKey(value, key) => {
            members(batch, value, fields);
            let from_value = fields.len();
            members(batch, key, fields);
            // key fields the value has already are not the row's twice
            let mut i = from_value;
            while i < fields.len() {
                if fields[..from_value].iter().any(|g| g.name == fields[i].name) {
                    fields.remove(i);
                } else {
                    i += 1;
                }
            }
        }
        RowSource::Plain(v @ (Value::Struct(..) | Value::Map(_))) => members(batch, v, fields),
        RowSource::Plain(_) => return RowShape::None,
    }
    RowShape::Fields
}

/// Appends the members of an object value.
fn members<'v, 'a>(batch: &Batch<'a>, v: &'v Value<'a>, out: &mut Vec<Field<'v, 'a>>) {
    match v {
        Value::Struct(id, xs) => {
            let s = batch.schema(*id);
            for (i, name) in s.fields.iter().enumerate().take(xs.len()) {
                let ty = match s.field_schemas.get(i) {
                    Some(fs) => FieldType::Schema(*fs),
                    None => FieldType::Value(&xs[i]),
                };
                out.push(Field { name: Cow::Borrowed(*name), ty });
            }
        }
        Value::Map(kvs) => {
            for (k, x) in kvs.iter() {
                // A schemaless map's keys are strings; the writer stringifies others, which
                // name no column anyone would create.
                if let Value::String(name) = k {
                    out.push(Field { name: Cow::Borrowed(*name), ty: FieldType::Value(x) });
                }
            }
        }
        _ => {}
    }
}
