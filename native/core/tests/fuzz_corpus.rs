//! Replays the fuzzing corpus (native/fuzz/corpus/decode, grown by `make fuzz`) on stable Rust
//! in every `make test`: each input must decode to Ok or a DATA error and serialize without a
//! panic, so a crash the fuzzer once found stays fixed.

use std::fs;
use std::path::Path;

use starrocks_sink_core::rows::csv::CsvOptions;
use starrocks_sink_core::rows::zone::Zone;
use starrocks_sink_core::rows::{RowFormat, RowWriter};
use starrocks_sink_core::ErrorKind;

#[test]
fn every_corpus_input_is_handled() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/decode");
    let mut inputs = 0;
    for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {}", dir.display(), e)) {
        let data = fs::read(entry.unwrap().path()).unwrap();
        inputs += 1;
        let arena = starrocks_sink_core::boundary::Bump::new();
        match starrocks_sink_core::boundary::decode(&data, &arena) {
            Ok(batch) => {
                let writers = [RowWriter::json(), RowWriter { format: RowFormat::Csv(CsvOptions::default()), zone: Zone::UTC, offset_column: None, key_column: None }];
                let mut out = Vec::new();
                for w in &writers {
                    for rec in &batch.records {
                        if let Err(e) = w.append_row(&batch, rec, &mut out) {
                            assert_eq!(e.kind, ErrorKind::Data, "{}", e);
                        }
                    }
                }
            }
            Err(e) => assert_eq!(e.kind, ErrorKind::Data, "{}", e),
        }
    }
    assert!(inputs >= 10, "the corpus holds only {} inputs", inputs);
}
