//! The sink one Connect task owns, in the delivery mode its config asks for: the JNI layer
//! holds this and never needs to know which.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::exactly_once::EoSink;
use crate::log::Log;
use crate::metrics::Metrics;
use crate::offsets::TopicPartition;
use crate::runtime;
use crate::sink::{row_layout, Sink};
use crate::rejected::Rejected;

pub enum TaskSink {
    AtLeastOnce(Sink),
    ExactlyOnce(EoSink),
}

impl TaskSink {
    pub fn open(map: &HashMap<String, String>, log: Log) -> Result<TaskSink> {
        let mut cfg = Config::parse(map)?;
        let layout = row_layout(&mut cfg)?;
        match cfg.exactly_once.clone() {
            None => Ok(TaskSink::AtLeastOnce(Sink::with_config(cfg, layout, log)?)),
            Some(eo) => {
                let rt = runtime::acquire().map_err(|e| Error::internal(format!("cannot start the I/O runtime: {}", e)))?;
                Ok(TaskSink::ExactlyOnce(EoSink::open(cfg, eo, layout.0, layout.1, log, rt)?))
            }
        }
    }

    pub fn log(&self) -> &Log {
        match self {
            TaskSink::AtLeastOnce(s) => s.log(),
            TaskSink::ExactlyOnce(s) => s.log(),
        }
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        match self {
            TaskSink::AtLeastOnce(s) => s.metrics(),
            TaskSink::ExactlyOnce(s) => s.metrics(),
        }
    }

    /// Connect assigned `tps`: where to seek each (`-1`: keep Connect's position). Only
    /// exactly-once mode seeks (to the offsets in its register).
    pub fn open_partitions(&mut self, tps: &[TopicPartition]) -> Result<Vec<i64>> {
        match self {
            TaskSink::AtLeastOnce(_) => Ok(vec![-1; tps.len()]),
            TaskSink::ExactlyOnce(s) => s.open_partitions(tps),
        }
    }

    pub fn put(&mut self, buf: &[u8]) -> Result<()> {
        match self {
            TaskSink::AtLeastOnce(s) => s.put(buf),
            TaskSink::ExactlyOnce(s) => s.put(buf),
        }
    }

    pub fn pre_commit(&mut self) -> Result<BTreeMap<TopicPartition, i64>> {
        match self {
            TaskSink::AtLeastOnce(s) => s.pre_commit(),
            TaskSink::ExactlyOnce(s) => s.pre_commit(),
        }
    }

    pub fn drain_rejected(&mut self) -> Vec<Rejected> {
        match self {
            TaskSink::AtLeastOnce(s) => s.drain_rejected(),
            TaskSink::ExactlyOnce(s) => s.drain_rejected(),
        }
    }

    pub fn forget(&mut self, tps: &[TopicPartition]) {
        match self {
            TaskSink::AtLeastOnce(s) => s.forget(tps),
            TaskSink::ExactlyOnce(s) => s.forget(tps),
        }
    }

    pub fn close(&mut self) {
        match self {
            TaskSink::AtLeastOnce(s) => s.close(),
            TaskSink::ExactlyOnce(s) => s.close(),
        }
    }
}
