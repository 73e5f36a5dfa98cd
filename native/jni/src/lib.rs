//! JNI exports of `com.starrocks.connector.kafka.bridge.NativeMethods`. Each one only converts
//! arguments, calls the core and converts the answer; every error and every panic becomes a
//! `NativeException(kind, message)` in Java (docs/architecture.md).

mod counting_alloc;
mod handles;
mod wire;

/// Counts the library's heap for the `native-allocated-bytes` metric (see counting_alloc.rs).
#[global_allocator]
static ALLOC: counting_alloc::CountingAlloc = counting_alloc::CountingAlloc;

use std::panic::{catch_unwind, AssertUnwindSafe};

use jni::objects::{JByteBuffer, JClass, JIntArray, JObject, JObjectArray, JString, JValue};
use jni::sys::{jbyteArray, jint, jlong, jlongArray, jstring};
use jni::JNIEnv;
use starrocks_sink_core::log::Log;
use starrocks_sink_core::{Error, TaskSink};

const EXCEPTION_CLASS: &str = "com/starrocks/connector/kafka/bridge/NativeException";

/// Runs `f`, turning an error or a panic into a pending Java exception and `fallback`.
fn guarded<'l, T>(env: &mut JNIEnv<'l>, fallback: T, f: impl FnOnce(&mut JNIEnv<'l>) -> Result<T, Error>) -> T {
    let outcome = catch_unwind(AssertUnwindSafe(|| f(env)));
    let err = match outcome {
        Ok(Ok(v)) => return v,
        Ok(Err(e)) => e,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Error::internal(format!("panic in the native sink: {}", what))
        }
    };
    throw(env, &err);
    fallback
}

fn throw(env: &mut JNIEnv<'_>, err: &Error) {
    if env.exception_check().unwrap_or(false) {
        return; // a JNI call already raised something more precise
    }
    let thrown = (|| -> jni::errors::Result<()> {
        let message = env.new_string(&err.message)?;
        let exception = env.new_object(
            EXCEPTION_CLASS,
            "(ILjava/lang/String;)V",
            &[JValue::Int(err.kind.code()), JValue::Object(&message)],
        )?;
        env.throw(jni::objects::JThrowable::from(exception))
    })();
    if thrown.is_err() {
        let _ = env.exception_clear();
        let _ = env.throw_new("java/lang/RuntimeException", format!("{} (and NativeException could not be created)", err));
    }
}

/// Panics become exceptions (see `guarded`); the hook only keeps the default hook from printing
/// a backtrace on the worker's stderr, and puts the location into the log instead.
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
            Log::global().error(|| format!("panic in the native sink{}: {}", at, info));
        }));
    });
}

fn jni_err(e: jni::errors::Error) -> Error {
    Error::internal(format!("JNI: {}", e))
}

fn strings(env: &mut JNIEnv<'_>, array: &JObjectArray<'_>) -> Result<Vec<String>, Error> {
    let n = env.get_array_length(array).map_err(jni_err)?;
    let mut out = Vec::with_capacity(n as usize);
    for i in 0..n {
        let obj = env.get_object_array_element(array, i).map_err(jni_err)?;
        if obj.is_null() {
            out.push(String::new());
            continue;
        }
        let s = JString::from(obj);
        let value: String = env.get_string(&s).map_err(jni_err)?.into();
        env.delete_local_ref(s).map_err(jni_err)?;
        out.push(value);
    }
    Ok(out)
}

/// The shim's config document (`StarRocksSinkConfig.nativeConfig`, tests/vectors/native_config.json)
/// as a Rust string; the core deserializes it. `null` is the shim's bug.
fn document(env: &mut JNIEnv<'_>, config: &JString<'_>) -> Result<String, Error> {
    if config.is_null() {
        return Err(Error::internal("no config document (null)"));
    }
    Ok(env.get_string(config).map_err(jni_err)?.into())
}

fn byte_array(env: &mut JNIEnv<'_>, bytes: &[u8]) -> Result<jbyteArray, Error> {
    Ok(env.byte_array_from_slice(bytes).map_err(jni_err)?.into_raw())
}

fn long_array(env: &mut JNIEnv<'_>, values: &[i64]) -> Result<jlongArray, Error> {
    let array = env.new_long_array(values.len() as i32).map_err(jni_err)?;
    env.set_long_array_region(&array, 0, values).map_err(jni_err)?;
    Ok(array.into_raw())
}

/// `null` for "nothing", so the common empty drain allocates no Java array.
fn byte_array_or_null(env: &mut JNIEnv<'_>, bytes: Option<Vec<u8>>) -> Result<jbyteArray, Error> {
    match bytes {
        Some(b) => byte_array(env, &b),
        None => Ok(JObject::null().into_raw()),
    }
}

#[no_mangle]
pub extern "system" fn Java_com_starrocks_connector_kafka_bridge_NativeMethods_open<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    config: JString<'l>,
    log_level: jint,
) -> jlong {
    guarded(&mut env, 0, |env| {
        install_panic_hook();
        let config = document(env, &config)?;
        let log = Log::new(log_level);
        match TaskSink::open(&config, log.clone()) {
            Ok(sink) => Ok(handles::insert(sink)),
            Err(e) => {
                log.forward_to(Log::global());
                Err(e)
            }
        }
    })
}

/// For the connector's validation: why the cluster cannot take this config, or `null`.
#[no_mangle]
pub extern "system" fn Java_com_starrocks_connector_kafka_bridge_NativeMethods_clusterProblem<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    config: JString<'l>,
) -> jstring {
    guarded(&mut env, std::ptr::null_mut(), |env| {
        install_panic_hook();
        let config = document(env, &config)?;
        match starrocks_sink_core::exactly_once::setup::validation_problem(&config) {
            Some(problem) => Ok(env.new_string(problem).map_err(jni_err)?.into_raw()),
            None => Ok(std::ptr::null_mut()),
        }
    })
}

#[no_mangle]
pub extern "system" fn Java_com_starrocks_connector_kafka_bridge_NativeMethods_put<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    batch: JByteBuffer<'l>,
    length: jint,
) {
    guarded(&mut env, (), |env| {
        let addr = env
            .get_direct_buffer_address(&batch)
            .map_err(|e| Error::internal(format!("put: the batch is not a direct buffer ({})", e)))?;
        let capacity = env.get_direct_buffer_capacity(&batch).map_err(jni_err)?;
        if length < 0 || length as usize > capacity {
            return Err(Error::internal(format!("put: length {} outside the buffer's {} bytes", length, capacity)));
        }
        // SAFETY: the buffer is a live direct ByteBuffer the task thread keeps (and does not
        // touch) for the duration of this call; we read `length <= capacity` bytes of it.
        let bytes = unsafe { std::slice::from_raw_parts(addr as *const u8, length as usize) };
        handles::with_sink(handle, |sink| sink.put(bytes))
    })
}

/// The acknowledged offsets and, in the same answer, the records refused since the last one
/// (`wire::pre_commit`): one crossing where two were. The rejected are drained after
/// `pre_commit` succeeded, under the same lock: its offsets count them as done, so Java reports
/// them before it answers the offsets. A failed `pre_commit` drains nothing; they come with
/// the next answer.
#[no_mangle]
pub extern "system" fn Java_com_starrocks_connector_kafka_bridge_NativeMethods_preCommit<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
) -> jbyteArray {
    guarded(&mut env, std::ptr::null_mut(), |env| {
        let (offsets, rejected) = handles::with_sink(handle, |sink| {
            let offsets = sink.pre_commit()?;
            Ok((offsets, sink.drain_rejected()))
        })?;
        byte_array(env, &wire::pre_commit(&offsets, &rejected))
    })
}

/// `(topics[i], partitions[i])` as topic-partitions.
fn topic_partitions(env: &mut JNIEnv<'_>, topics: &JObjectArray<'_>, partitions: &JIntArray<'_>) -> Result<Vec<(String, i32)>, Error> {
    let topics = strings(env, topics)?;
    let n = env.get_array_length(partitions).map_err(jni_err)? as usize;
    if n != topics.len() {
        return Err(Error::internal("topics and partitions differ in length"));
    }
    let mut numbers = vec![0; n];
    env.get_int_array_region(partitions, 0, &mut numbers).map_err(jni_err)?;
    Ok(topics.into_iter().zip(numbers).collect())
}

/// Per partition, the offset Connect must seek to, or -1 (keep its position).
#[no_mangle]
pub extern "system" fn Java_com_starrocks_connector_kafka_bridge_NativeMethods_openPartitions<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    topics: JObjectArray<'l>,
    partitions: JIntArray<'l>,
) -> jlongArray {
    guarded(&mut env, std::ptr::null_mut(), |env| {
        let tps = topic_partitions(env, &topics, &partitions)?;
        let seeks = handles::with_sink(handle, |sink| sink.open_partitions(&tps))?;
        long_array(env, &seeks)
    })
}

#[no_mangle]
pub extern "system" fn Java_com_starrocks_connector_kafka_bridge_NativeMethods_forget<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    topics: JObjectArray<'l>,
    partitions: JIntArray<'l>,
) {
    guarded(&mut env, (), |env| {
        let tps = topic_partitions(env, &topics, &partitions)?;
        handles::with_sink(handle, |sink| {
            sink.forget(&tps);
            Ok(())
        })
    })
}

#[no_mangle]
pub extern "system" fn Java_com_starrocks_connector_kafka_bridge_NativeMethods_drainLogs<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
) -> jbyteArray {
    guarded(&mut env, std::ptr::null_mut(), |env| {
        let events = if handle == 0 { Log::global().drain() } else { handles::get(handle)?.log.drain() };
        byte_array_or_null(env, (!events.is_empty()).then(|| wire::logs(&events)))
    })
}

/// The sink's counters in `starrocks_sink_core::metrics::NAMES` order. The only export that may
/// be called from another thread than the task's (the JMX MBean): it reads atomics through the
/// handle table's `Arc` and never takes the sink's lock. The one process-wide slot,
/// `native-allocated-bytes`, comes from this library's allocator (the core does not see it).
#[no_mangle]
pub extern "system" fn Java_com_starrocks_connector_kafka_bridge_NativeMethods_metrics<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
) -> jlongArray {
    guarded(&mut env, std::ptr::null_mut(), |env| {
        let mut values = handles::get(handle)?.metrics.snapshot();
        values[starrocks_sink_core::metrics::NATIVE_ALLOCATED_BYTES] =
            counting_alloc::allocated_bytes().min(i64::MAX as u64) as i64;
        long_array(env, &values)
    })
}

/// `starrocks_sink_core::metrics::NAMES`, so the shim can check its own copy against them.
#[no_mangle]
pub extern "system" fn Java_com_starrocks_connector_kafka_bridge_NativeMethods_metricNames<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
) -> jni::sys::jobjectArray {
    guarded(&mut env, std::ptr::null_mut(), |env| {
        let names = starrocks_sink_core::metrics::NAMES;
        let array = env.new_object_array(names.len() as i32, "java/lang/String", JObject::null()).map_err(jni_err)?;
        for (i, name) in names.iter().enumerate() {
            let s = env.new_string(name).map_err(jni_err)?;
            env.set_object_array_element(&array, i as i32, &s).map_err(jni_err)?;
            env.delete_local_ref(s).map_err(jni_err)?;
        }
        Ok(array.into_raw())
    })
}

#[no_mangle]
pub extern "system" fn Java_com_starrocks_connector_kafka_bridge_NativeMethods_close<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
) {
    guarded(&mut env, (), |_env| {
        let entry = handles::remove(handle)?;
        // Java drains handle 0 after close: what closing logs goes there.
        match entry.sink.lock() {
            Ok(mut sink) => sink.close(),
            // The panic was reported when it happened; closing just frees what is left.
            Err(_) => entry.log.warn(|| "freed a native sink that had failed with a panic".to_string()),
        }
        entry.log.forward_to(Log::global());
        Ok(())
    })
}
