//! The data dir: one append-only log, `catalog.log`, replayed at start. It holds two kinds of
//! record, written in the order the changes happened:
//! - `D`: a state-changing SQL statement (DDL, users, grants, TRUNCATE) with the session's
//!   database; replay runs it again, so ids come out the same because they are handed out in
//!   log order.
//! - `B`: a committed load batch for a table id; tables dropped since are skipped at replay.
//! - `S`: the end of a schema-change job (its ALTER is a `D` record logged when it was
//!   submitted): replay finishes or cancels the job there, in order with the batches.
//!
//! Each record is `tag u8, len u32 LE, payload`; a torn last record (crash mid-write) is ignored.
//! Each record is one `write` on an unbuffered file: it survives a killed process (not a power
//! cut: nothing is fsynced), without a syscall per row.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::model::{LoadBatch, LoadRow, RowOp, Value};

const MAGIC: &[u8; 8] = b"SREMU01\n";

pub enum Record {
    Ddl {
        db: Option<String>,
        sql: String,
    },
    Batch {
        table_id: i64,
        batch: LoadBatch,
    },
    /// DELETE ... WHERE: the positions (in `TableData::all_rows` order) it removed.
    DeleteRows {
        table_id: i64,
        positions: Vec<u64>,
    },
    /// A schema-change job ended (FINISHED, or CANCELLED with `msg`).
    JobDone {
        job_id: i64,
        create_ms: i64,
        finish_ms: i64,
        finished: bool,
        msg: String,
    },
}

pub struct Log {
    file: File,
    path: PathBuf,
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn encode_value(out: &mut Vec<u8>, v: &Option<Value>) {
    match v {
        None => out.push(0),
        Some(Value::Int(i)) => {
            if let Ok(small) = i64::try_from(*i) {
                out.push(9);
                out.extend_from_slice(&small.to_le_bytes());
            } else {
                out.push(1);
                out.extend_from_slice(&i.to_le_bytes());
            }
        }
        Some(Value::Bool(b)) => {
            out.push(2);
            out.push(*b as u8);
        }
        Some(Value::Float(f)) => {
            out.push(3);
            out.extend_from_slice(&f.to_le_bytes());
        }
        Some(Value::Decimal(s)) => {
            out.push(4);
            put_str(out, s);
        }
        Some(Value::Str(s)) => {
            out.push(5);
            put_str(out, s);
        }
        Some(Value::Date(d)) => {
            out.push(6);
            out.extend_from_slice(&d.to_le_bytes());
        }
        Some(Value::DateTime(t)) => {
            out.push(7);
            out.extend_from_slice(&t.to_le_bytes());
        }
        Some(Value::Json(s)) => {
            out.push(8);
            put_str(out, s);
        }
    }
}

pub fn encode(rec: &Record) -> Vec<u8> {
    let mut p = Vec::new();
    let tag = match rec {
        Record::Ddl { db, sql } => {
            put_str(&mut p, db.as_deref().unwrap_or(""));
            p.push(db.is_some() as u8);
            put_str(&mut p, sql);
            b'D'
        }
        Record::Batch { table_id, batch } => {
            p.extend_from_slice(&table_id.to_le_bytes());
            match &batch.partial_columns {
                None => p.extend_from_slice(&u32::MAX.to_le_bytes()),
                Some(cols) => {
                    p.extend_from_slice(&(cols.len() as u32).to_le_bytes());
                    for &c in cols {
                        p.extend_from_slice(&(c as u32).to_le_bytes());
                    }
                }
            }
            p.extend_from_slice(
                &batch
                    .merge_condition
                    .map(|m| m as u32)
                    .unwrap_or(u32::MAX)
                    .to_le_bytes(),
            );
            p.extend_from_slice(&(batch.rows.len() as u32).to_le_bytes());
            for r in &batch.rows {
                p.push(matches!(r.op, RowOp::Delete) as u8);
                p.extend_from_slice(&(r.values.len() as u32).to_le_bytes());
                for v in &r.values {
                    encode_value(&mut p, v);
                }
            }
            b'B'
        }
        Record::DeleteRows {
            table_id,
            positions,
        } => {
            p.extend_from_slice(&table_id.to_le_bytes());
            p.extend_from_slice(&(positions.len() as u32).to_le_bytes());
            for x in positions {
                p.extend_from_slice(&x.to_le_bytes());
            }
            b'R'
        }
        Record::JobDone {
            job_id,
            create_ms,
            finish_ms,
            finished,
            msg,
        } => {
            p.extend_from_slice(&job_id.to_le_bytes());
            p.extend_from_slice(&create_ms.to_le_bytes());
            p.extend_from_slice(&finish_ms.to_le_bytes());
            p.push(*finished as u8);
            put_str(&mut p, msg);
            b'S'
        }
    };
    let mut out = Vec::with_capacity(p.len() + 5);
    out.push(tag);
    out.extend_from_slice(&(p.len() as u32).to_le_bytes());
    out.extend_from_slice(&p);
    out
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.pos..self.pos + n)?;
        self.pos += n;
        Some(s)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn i64(&mut self) -> Option<i64> {
        Some(i64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn str(&mut self) -> Option<String> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }
    fn value(&mut self) -> Option<Option<Value>> {
        Some(Some(match self.u8()? {
            0 => return Some(None),
            1 => Value::Int(i128::from_le_bytes(self.take(16)?.try_into().ok()?)),
            9 => Value::Int(self.i64()? as i128),
            2 => Value::Bool(self.u8()? != 0),
            3 => Value::Float(f64::from_le_bytes(self.take(8)?.try_into().ok()?)),
            4 => Value::Decimal(self.str()?),
            5 => Value::Str(self.str()?),
            6 => Value::Date(i32::from_le_bytes(self.take(4)?.try_into().ok()?)),
            7 => Value::DateTime(self.i64()?),
            8 => Value::Json(self.str()?),
            _ => return None,
        }))
    }
}

fn decode(tag: u8, payload: &[u8]) -> Option<Record> {
    let mut r = Reader { b: payload, pos: 0 };
    match tag {
        b'D' => {
            let db = r.str()?;
            let has_db = r.u8()? != 0;
            let sql = r.str()?;
            Some(Record::Ddl {
                db: has_db.then_some(db),
                sql,
            })
        }
        b'B' => {
            let table_id = r.i64()?;
            let n = r.u32()?;
            let partial_columns = if n == u32::MAX {
                None
            } else {
                Some(
                    (0..n)
                        .map(|_| r.u32().map(|c| c as usize))
                        .collect::<Option<Vec<_>>>()?,
                )
            };
            let m = r.u32()?;
            let merge_condition = (m != u32::MAX).then_some(m as usize);
            let rows = r.u32()?;
            let mut out = Vec::with_capacity(rows as usize);
            for _ in 0..rows {
                let op = if r.u8()? != 0 {
                    RowOp::Delete
                } else {
                    RowOp::Upsert
                };
                let w = r.u32()?;
                let values = (0..w).map(|_| r.value()).collect::<Option<Vec<_>>>()?;
                out.push(LoadRow { op, values });
            }
            Some(Record::Batch {
                table_id,
                batch: LoadBatch {
                    rows: out,
                    partial_columns,
                    merge_condition,
                },
            })
        }
        b'R' => {
            let table_id = r.i64()?;
            let n = r.u32()?;
            let positions = (0..n)
                .map(|_| r.i64().map(|x| x as u64))
                .collect::<Option<Vec<_>>>()?;
            Some(Record::DeleteRows {
                table_id,
                positions,
            })
        }
        b'S' => Some(Record::JobDone {
            job_id: r.i64()?,
            create_ms: r.i64()?,
            finish_ms: r.i64()?,
            finished: r.u8()? != 0,
            msg: r.str()?,
        }),
        _ => None,
    }
}

impl Log {
    /// Opens (creating) the log in `dir` and returns the records already in it. A torn tail is
    /// cut off so that new records follow the last whole one.
    pub fn open(dir: &Path) -> Result<(Log, Vec<Record>), String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create data dir {}: {e}", dir.display()))?;
        let path = dir.join("catalog.log");
        let mut bytes = Vec::new();
        if path.exists() {
            File::open(&path)
                .and_then(|mut f| f.read_to_end(&mut bytes))
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        }
        let mut records = Vec::new();
        let mut good_len = 0usize;
        if bytes.len() >= MAGIC.len() {
            if &bytes[..MAGIC.len()] != MAGIC {
                return Err(format!("{} is not an emulator data log", path.display()));
            }
            let mut pos = MAGIC.len();
            good_len = pos;
            while pos + 5 <= bytes.len() {
                let tag = bytes[pos];
                let len = u32::from_le_bytes(bytes[pos + 1..pos + 5].try_into().unwrap()) as usize;
                let Some(payload) = bytes.get(pos + 5..pos + 5 + len) else {
                    break;
                };
                let Some(rec) = decode(tag, payload) else {
                    break;
                };
                records.push(rec);
                pos += 5 + len;
                good_len = pos;
            }
        }
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .write(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        if good_len == 0 {
            file.set_len(0)
                .and_then(|_| file.write_all(MAGIC))
                .map_err(|e| e.to_string())?;
        } else {
            file.set_len(good_len as u64).map_err(|e| e.to_string())?;
        }
        use std::io::Seek;
        file.seek(std::io::SeekFrom::End(0))
            .map_err(|e| e.to_string())?;
        Ok((Log { file, path }, records))
    }

    pub fn append(&mut self, rec: &Record) -> Result<(), String> {
        self.file
            .write_all(&encode(rec))
            .map_err(|e| format!("cannot write {}: {e}", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_torn_tail_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let batch = LoadBatch {
            rows: vec![LoadRow {
                op: RowOp::Delete,
                values: vec![
                    None,
                    Some(Value::Int(i128::MAX)),
                    Some(Value::Int(-5)),
                    Some(Value::Bool(true)),
                    Some(Value::Float(1.5)),
                    Some(Value::Decimal("1.20".into())),
                    Some(Value::Str("é".into())),
                    Some(Value::Date(-3)),
                    Some(Value::DateTime(7)),
                    Some(Value::Json("{}".into())),
                ],
            }],
            partial_columns: Some(vec![0, 2]),
            merge_condition: Some(1),
        };
        {
            let (mut log, recs) = Log::open(dir.path()).unwrap();
            assert!(recs.is_empty());
            log.append(&Record::Ddl {
                db: Some("d".into()),
                sql: "CREATE TABLE t (a INT)".into(),
            })
            .unwrap();
            log.append(&Record::Batch {
                table_id: 42,
                batch: batch.clone(),
            })
            .unwrap();
            // A torn record: header promises more than is there.
            log.file.write_all(&[b'B', 100, 0, 0, 0, 1, 2]).unwrap();
        }
        let (mut log, recs) = Log::open(dir.path()).unwrap();
        assert_eq!(recs.len(), 2);
        match &recs[1] {
            Record::Batch { table_id, batch: b } => {
                assert_eq!(*table_id, 42);
                assert_eq!(b, &batch);
            }
            _ => panic!("expected batch"),
        }
        log.append(&Record::Ddl {
            db: None,
            sql: "DROP DATABASE d".into(),
        })
        .unwrap();
        log.append(&Record::JobDone {
            job_id: 7,
            create_ms: 1,
            finish_ms: 2,
            finished: false,
            msg: "m".into(),
        })
        .unwrap();
        drop(log);
        let (_, recs) = Log::open(dir.path()).unwrap();
        assert_eq!(recs.len(), 4);
        assert!(
            matches!(&recs[3], Record::JobDone { job_id: 7, create_ms: 1, finish_ms: 2, finished: false, msg } if msg == "m")
        );
        assert!(matches!(&recs[2], Record::Ddl { db: None, sql } if sql == "DROP DATABASE d"));
    }
}
