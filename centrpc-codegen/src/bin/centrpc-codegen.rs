//! `centrpc-codegen`: generates typed clients from a centrpc API document, without the
//! application that wrote it.

use std::process::ExitCode;

use centrpc_codegen::GenerateArgs;
use clap::Parser;

/// Generates typed Python, TypeScript and Go clients from a centrpc API document.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(flatten)]
    generate: GenerateArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let Some(path) = &cli.generate.schema else {
        eprintln!("error: --schema FILE is required (write it with `my-app schema --output FILE`)");
        return ExitCode::from(2);
    };
    let result = centrpc_codegen::read_document(path).and_then(|document| {
        centrpc_codegen::generate(
            &document,
            &cli.generate.languages(),
            &cli.generate.output,
            &cli.generate.options(),
        )
        .map_err(|e| e.to_string())
    });
    match result {
        Ok(written) => {
            for dir in written {
                eprintln!("wrote {}", dir.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
