//! ALTER TABLE ... ADD/MODIFY COLUMN: parsing, StarRocks' error texts, the job's states on an
//! injected clock, loads across the change, and the data log.

use std::sync::Mutex;

use super::*;
use crate::model::{Store, Value};

fn exec(cat: &Catalog, s: &mut Session, sql: &str) -> QueryResult {
    cat.execute(s, sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn err(cat: &Catalog, s: &mut Session, sql: &str) -> SqlError {
    cat.execute(s, sql).expect_err(sql)
}

fn col(r: &QueryResult, name: &str) -> Vec<Option<String>> {
    let i = r.columns.iter().position(|c| c == name).unwrap();
    r.rows.iter().map(|row| row[i].clone()).collect()
}

/// A catalog whose jobs follow a hand-moved clock, with `delay_ms` per job.
fn setup(delay_ms: u64) -> (Arc<Catalog>, Session, Arc<Mutex<f64>>) {
    let cat = Catalog::open("", None).unwrap();
    let now = Arc::new(Mutex::new(1_700_000_000.0));
    let n = now.clone();
    cat.set_clock(Arc::new(move || *n.lock().unwrap()));
    cat.set_schema_change_delay_ms(delay_ms);
    let mut s = Session::root();
    exec(&cat, &mut s, "CREATE DATABASE d");
    exec(&cat, &mut s, "USE d");
    exec(&cat, &mut s, "CREATE TABLE t (id INT NOT NULL, name VARCHAR(10), score INT) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 2");
    (cat, s, now)
}

fn load(cat: &Catalog, rows: Vec<Vec<Option<Value>>>) {
    cat.apply("d", "t", crate::schema_change::evolve::upserts(rows)).unwrap();
}

fn int(i: i128) -> Option<Value> {
    Some(Value::Int(i))
}

fn fields(cat: &Catalog, s: &mut Session) -> Vec<String> {
    exec(cat, s, "DESC t")
        .rows
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect()
}

#[test]
fn add_column_positions_and_multi_form() {
    let (cat, mut s, _) = setup(0);
    exec(
        &cat,
        &mut s,
        "ALTER TABLE t ADD COLUMN city VARCHAR(20) DEFAULT 'x' COMMENT 'c'",
    );
    exec(&cat, &mut s, "ALTER TABLE d.t ADD COLUMN f INT FIRST");
    exec(
        &cat,
        &mut s,
        "ALTER TABLE t ADD COLUMN a2 BIGINT NULL AFTER name",
    );
    exec(
        &cat,
        &mut s,
        "ALTER TABLE t ADD COLUMN (m1 INT, m2 STRING NOT NULL DEFAULT '')",
    );
    assert_eq!(
        fields(&cat, &mut s),
        ["f", "id", "name", "a2", "score", "city", "m1", "m2"]
    );
    let r = exec(&cat, &mut s, "SHOW CREATE TABLE t");
    let text = r.rows[0][1].clone().unwrap();
    assert!(
        text.contains("`city` varchar(20) NULL DEFAULT \"x\""),
        "{text}"
    );
    let r = exec(&cat, &mut s, "SELECT COLUMN_NAME, ORDINAL_POSITION, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT FROM information_schema.columns WHERE table_name = 't' ORDER BY ORDINAL_POSITION");
    assert_eq!(
        r.rows[3],
        vec![
            Some("a2".into()),
            Some("4".into()),
            Some("bigint".into()),
            Some("YES".into()),
            None
        ]
    );
    assert_eq!(
        r.rows[7],
        vec![
            Some("m2".into()),
            Some("8".into()),
            Some("varchar(65533)".into()),
            Some("NO".into()),
            Some("".into())
        ]
    );
}

#[test]
fn add_column_errors_are_starrocks_texts() {
    let (cat, mut s, _) = setup(0);
    let e = err(&cat, &mut s, "ALTER TABLE t ADD COLUMN score INT");
    assert_eq!(
        (e.code, e.sqlstate, e.message.as_str()),
        (
            1064,
            "HY000",
            "Can not add column which already exists in base table: score"
        )
    );
    let e = err(&cat, &mut s, "ALTER TABLE t ADD COLUMN score BIGINT");
    assert_eq!(
        e.message,
        "Repeatedly add same column with different definition: score"
    );
    let e = err(&cat, &mut s, "ALTER TABLE t ADD COLUMN x INT AFTER nope");
    assert_eq!(e.message, "Column[nope] does not found");
    let e = err(&cat, &mut s, "ALTER TABLE t ADD COLUMN x INT NOT NULL");
    assert_eq!(
        (e.code, e.message.as_str()),
        (1064, "Getting analyzing error. Detail message: Field 'x' is not null but doesn't have a default value.")
    );
    let e = err(&cat, &mut s, "ALTER TABLE nope ADD COLUMN x INT");
    assert_eq!(
        (e.code, e.message.as_str()),
        (1051, "Unknown table 'd.nope'")
    );
    let e = err(&cat, &mut s, "ALTER TABLE nodb.t ADD COLUMN x INT");
    assert_eq!(e.code, 1049);
    exec(
        &cat,
        &mut s,
        "CREATE TABLE p (id INT, v INT) PRIMARY KEY(id)",
    );
    let e = err(&cat, &mut s, "ALTER TABLE p ADD COLUMN k INT KEY");
    assert_eq!(e.message, "Can not add key column: k for primary key table");
    let e = err(&cat, &mut s, "ALTER TABLE p ADD COLUMN k INT FIRST");
    assert!(
        e.message.ends_with("Cannot add value column[k] at first."),
        "{}",
        e.message
    );
    // Nothing was queued by the failures.
    assert!(exec(&cat, &mut s, "SHOW ALTER TABLE COLUMN")
        .rows
        .is_empty());
}

#[test]
fn modify_column_widens_and_refuses_the_rest() {
    let (cat, mut s, _) = setup(0);
    load(
        &cat,
        vec![vec![int(1), Some(Value::Str("abc".into())), int(7)]],
    );
    exec(
        &cat,
        &mut s,
        "ALTER TABLE t MODIFY COLUMN name VARCHAR(100)",
    );
    exec(&cat, &mut s, "ALTER TABLE t MODIFY COLUMN score BIGINT");
    let r = exec(&cat, &mut s, "DESC t");
    assert_eq!(r.rows[1][1].as_deref(), Some("varchar(100)"));
    assert_eq!(r.rows[2][1].as_deref(), Some("bigint"));
    assert_eq!(
        exec(&cat, &mut s, "SELECT * FROM t").rows,
        vec![vec![Some("1".into()), Some("abc".into()), Some("7".into())]]
    );
    for (sql, msg) in [
        (
            "ALTER TABLE t MODIFY COLUMN name VARCHAR(5)",
            "Cannot shorten string length",
        ),
        (
            "ALTER TABLE t MODIFY COLUMN score INT",
            "Can not change BIGINT to INT",
        ),
        (
            "ALTER TABLE t MODIFY COLUMN score BOOLEAN",
            "Can not change BIGINT to BOOLEAN",
        ),
        (
            "ALTER TABLE t MODIFY COLUMN name VARCHAR(100) NOT NULL",
            "Can not change from nullable to non-nullable",
        ),
        (
            "ALTER TABLE t MODIFY COLUMN name VARCHAR(100) DEFAULT 'z'",
            "Can not change default value",
        ),
        (
            "ALTER TABLE t MODIFY COLUMN nope INT",
            "Column[nope] does not exists",
        ),
        (
            "ALTER TABLE t MODIFY COLUMN score BIGINT",
            "Nothing is changed. please check your alter stmt.",
        ),
    ] {
        let e = err(&cat, &mut s, sql);
        assert_eq!((e.code, e.message.as_str()), (1064, msg), "{sql}");
    }
    exec(
        &cat,
        &mut s,
        "CREATE TABLE p (id VARCHAR(10) NOT NULL, v INT) PRIMARY KEY(id)",
    );
    let e = err(&cat, &mut s, "ALTER TABLE p MODIFY COLUMN id VARCHAR(20)");
    assert_eq!(e.message, "primary key column[id] cannot be nullable");
    let e = err(&cat, &mut s, "ALTER TABLE p MODIFY COLUMN id INT NOT NULL");
    assert_eq!(
        e.message,
        "Can not modify key column: id for primary key table except for increasing varchar length"
    );
    exec(
        &cat,
        &mut s,
        "ALTER TABLE p MODIFY COLUMN id VARCHAR(20) NOT NULL",
    );
}

#[test]
fn job_walks_its_states_and_the_schema_changes_at_finished() {
    let (cat, mut s, now) = setup(3000);
    load(&cat, vec![vec![int(1), None, int(1)]]);
    exec(
        &cat,
        &mut s,
        "ALTER TABLE t ADD COLUMN city VARCHAR(20) DEFAULT 'x'",
    );
    let show =
        "SHOW ALTER TABLE COLUMN FROM d WHERE TableName = 't' ORDER BY CreateTime DESC LIMIT 1";
    let r = exec(&cat, &mut s, show);
    assert_eq!(
        r.columns,
        [
            "JobId",
            "TableName",
            "CreateTime",
            "FinishTime",
            "IndexName",
            "IndexId",
            "OriginIndexId",
            "SchemaVersion",
            "TransactionId",
            "State",
            "Msg",
            "Progress",
            "Timeout"
        ]
    );
    assert_eq!(col(&r, "State"), [Some("PENDING".into())]);
    assert_eq!(col(&r, "FinishTime"), [None]);
    assert_eq!(col(&r, "Timeout"), [Some("86400".into())]);
    assert!(col(&r, "SchemaVersion")[0]
        .as_deref()
        .unwrap()
        .starts_with("1:"));
    assert_eq!(fields(&cat, &mut s).len(), 3, "not visible before FINISHED");
    // A second ALTER while the job runs.
    let e = err(&cat, &mut s, "ALTER TABLE t ADD COLUMN other INT");
    assert_eq!(e.code, 1064);
    assert!(e.message.starts_with("A schema change operation is in progress on the table \"t\". Please wait until the current operation completes."), "{}", e.message);
    // A load planned before FINISHED ...
    let old_schema = cat.table("d", "t").unwrap();
    assert_eq!(old_schema.columns.len(), 3);
    *now.lock().unwrap() += 1.5;
    assert_eq!(
        col(&exec(&cat, &mut s, show), "State"),
        [Some("WAITING_TXN".into())]
    );
    *now.lock().unwrap() += 1.0;
    let r = exec(&cat, &mut s, show);
    assert_eq!(
        (col(&r, "State"), col(&r, "Progress")),
        (vec![Some("RUNNING".into())], vec![Some("0/1".into())])
    );
    *now.lock().unwrap() += 1.0;
    let r = exec(&cat, &mut s, show);
    assert_eq!(col(&r, "State"), [Some("FINISHED".into())]);
    assert!(col(&r, "FinishTime")[0].is_some());
    // ... commits after it, in the old layout: the new column takes its DEFAULT.
    load(&cat, vec![vec![int(2), None, int(2)]]);
    load(
        &cat,
        vec![vec![int(3), None, int(3), Some(Value::Str("y".into()))]],
    );
    assert_eq!(
        exec(&cat, &mut s, "SELECT id, city FROM t ORDER BY id").rows,
        vec![
            vec![Some("1".into()), Some("x".into())],
            vec![Some("2".into()), Some("x".into())],
            vec![Some("3".into()), Some("y".into())],
        ]
    );
    exec(&cat, &mut s, "ALTER TABLE t ADD COLUMN other INT");
    assert_eq!(exec(&cat, &mut s, "SHOW ALTER TABLE COLUMN").rows.len(), 2);
}

#[test]
fn a_modify_that_does_not_convert_is_cancelled() {
    let (cat, mut s, _) = setup(0);
    exec(&cat, &mut s, "ALTER TABLE t ADD COLUMN v VARCHAR(10)");
    load(
        &cat,
        vec![vec![int(1), None, int(1), Some(Value::Str("abc".into()))]],
    );
    exec(&cat, &mut s, "ALTER TABLE t MODIFY COLUMN v INT");
    let r = exec(&cat, &mut s, "SHOW ALTER TABLE COLUMN ORDER BY JobId DESC");
    assert_eq!(col(&r, "State")[0].as_deref(), Some("CANCELLED"));
    assert!(col(&r, "Msg")[0].as_deref().unwrap().contains("abc"));
    assert_eq!(
        exec(&cat, &mut s, "DESC t").rows[3][1].as_deref(),
        Some("varchar(10)")
    );
}

#[test]
fn tables_config_describes_models_and_keys() {
    let (cat, mut s, _) = setup(0);
    exec(
        &cat,
        &mut s,
        "CREATE TABLE p (id INT, v INT) PRIMARY KEY(id) DISTRIBUTED BY HASH(id) ORDER BY (v)",
    );
    let r = exec(&cat, &mut s, "SELECT TABLE_NAME, TABLE_ENGINE, TABLE_MODEL, PRIMARY_KEY, DISTRIBUTE_KEY, DISTRIBUTE_TYPE, DISTRIBUTE_BUCKET, SORT_KEY FROM information_schema.tables_config WHERE TABLE_SCHEMA = 'd' ORDER BY TABLE_NAME");
    assert_eq!(
        r.rows,
        vec![
            [
                "p",
                "OLAP",
                "PRIMARY_KEYS",
                "`id`",
                "`id`",
                "HASH",
                "0",
                "`v`"
            ]
            .map(|x| Some(x.to_string()))
            .to_vec(),
            ["t", "OLAP", "DUP_KEYS", "", "`id`", "HASH", "2", "`id`"]
                .map(|x| Some(x.to_string()))
                .to_vec(),
        ]
    );
}

#[test]
fn data_dir_keeps_the_new_schema_and_the_job() {
    let dir = tempfile::tempdir().unwrap();
    {
        let cat = Catalog::open("", Some(dir.path())).unwrap();
        let mut s = Session::root();
        exec(&cat, &mut s, "CREATE DATABASE d");
        exec(
            &cat,
            &mut s,
            "CREATE TABLE d.t (id INT, name VARCHAR(10), score INT) DUPLICATE KEY(id)",
        );
        load(&cat, vec![vec![int(1), None, int(1)]]);
        exec(
            &cat,
            &mut s,
            "ALTER TABLE d.t ADD COLUMN city VARCHAR(20) DEFAULT 'x'",
        );
        load(
            &cat,
            vec![vec![int(2), None, int(2), Some(Value::Str("y".into()))]],
        );
        exec(&cat, &mut s, "CREATE TABLE d.after (a INT)");
    }
    let cat = Catalog::open("", Some(dir.path())).unwrap();
    let mut s = Session::root();
    assert_eq!(
        exec(&cat, &mut s, "SELECT id, city FROM d.t ORDER BY id").rows,
        vec![
            vec![Some("1".into()), Some("x".into())],
            vec![Some("2".into()), Some("y".into())]
        ]
    );
    let r = exec(&cat, &mut s, "SHOW ALTER TABLE COLUMN FROM d");
    assert_eq!(col(&r, "State"), [Some("FINISHED".into())]);
    exec(&cat, &mut s, "SELECT * FROM d.after");
}
