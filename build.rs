//! Compiles Centrifugo's proxy protocol (proto/proxy.proto) into tonic server code and writes the
//! descriptor set that the reflection service serves. Uses the protoc shipped inside
//! `protoc-bin-vendored`, so a fresh machine needs no system protoc.

use std::{env, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    // SAFETY of set_var: build scripts are single-threaded at this point.
    unsafe { env::set_var("PROTOC", protoc) };
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    tonic_prost_build::configure()
        .generate_default_stubs(true)
        // The client is only used by tests; without the transport constructor its `connect`
        // cannot collide with the `Connect` rpc (E0592).
        .build_transport(false)
        .file_descriptor_set_path(out_dir.join("proxy_descriptor.bin"))
        .compile_protos(&["proto/proxy.proto"], &["proto"])?;
    println!("cargo:rerun-if-changed=proto/proxy.proto");
    Ok(())
}
