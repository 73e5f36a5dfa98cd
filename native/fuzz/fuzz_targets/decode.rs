//! Any bytes handed to `put`: the decoder must answer Ok or a DATA error, never panic or read
//! out of bounds; whatever decodes must also serialize (or fail cleanly) in JSON and CSV.
#![no_main]

use libfuzzer_sys::fuzz_target;
use starrocks_sink_core::rows::{csv::CsvOptions, RowFormat, RowWriter};
use starrocks_sink_core::rows::zone::Zone;

fuzz_target!(|data: &[u8]| {
    let arena = starrocks_sink_core::boundary::Bump::new();
    if let Ok(batch) = starrocks_sink_core::boundary::decode(data, &arena) {
        let writers = [
            RowWriter::json(),
            RowWriter { format: RowFormat::Csv(CsvOptions::default()), zone: Zone::UTC, offset_column: None, key_column: None },
        ];
        let mut out = Vec::new();
        for w in &writers {
            for rec in &batch.records {
                let _ = w.append_row(&batch, rec, &mut out);
            }
        }
    }
});
