//! Generates the messages and the tonic server and client of `proto/identity.proto`, in pure
//! Rust: protox parses the file, tonic-prost-build writes the code. No `protoc` is needed.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/identity.proto");
    let descriptors = protox::compile(["identity.proto"], ["proto"])?;
    tonic_prost_build::configure().compile_fds(descriptors)?;
    Ok(())
}
