//! Writing and reading the ONNX graph of a supernet or child, from the ONNX protobuf
//! types that tract-onnx exposes (prost encodes them).
//!
//! The graph (the bundle in `docs/formats.md` and `docs/architecture.md`): inputs
//! `numeric [B, n_num] f32` and, with categorical columns, `categorical [B, n_cat] i64`;
//! `Add` of per-column row offsets, one `Gather` on the stacked embedding table,
//! `Reshape` to `[B, n_cat * dim]`, `Concat` with the numeric input; then
//! `MatMul + Add + Relu` per hidden layer and `MatMul + Add` for the head. The batch
//! dimension is symbolic (`batch`). A child differs from the supernet only in the shapes
//! of the dense initializers.

use std::fmt;

use prost::Message;
use tract_onnx::pb::{
    attribute_proto::AttributeType, tensor_proto::DataType, tensor_shape_proto::dimension,
    tensor_shape_proto::Dimension, type_proto, AttributeProto, GraphProto, ModelProto, NodeProto,
    OperatorSetIdProto, TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
};

use crate::{BundleError, Manifest, SupernetWeights};

/// ONNX opset the graph is written for.
pub const OPSET: i64 = 13;
/// ONNX IR version written (ONNX 1.8 and later read it).
pub const IR_VERSION: i64 = 7;

fn f32_tensor(name: &str, dims: &[usize], data: &[f32]) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: DataType::Float as i32,
        raw_data: data.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ..Default::default()
    }
}

fn i64_tensor(name: &str, dims: &[usize], data: &[i64]) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: DataType::Int64 as i32,
        raw_data: data.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ..Default::default()
    }
}

fn value_info(name: &str, dt: DataType, cols: usize) -> ValueInfoProto {
    let dim = |v| Dimension {
        value: Some(v),
        ..Default::default()
    };
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: dt as i32,
                shape: Some(TensorShapeProto {
                    dim: vec![
                        dim(dimension::Value::DimParam("batch".into())),
                        dim(dimension::Value::DimValue(cols as i64)),
                    ],
                }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn node(op: &str, name: &str, inputs: &[&str], output: &str) -> NodeProto {
    NodeProto {
        op_type: op.into(),
        name: name.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        ..Default::default()
    }
}

fn int_attr(name: &str, value: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Int as i32,
        i: value,
        ..Default::default()
    }
}

/// Builds the graph of `weights` (the supernet's or a child's) under `manifest`'s names.
pub fn build_model(
    manifest: &Manifest,
    weights: &SupernetWeights,
) -> Result<ModelProto, BundleError> {
    let widths: Vec<usize> = weights
        .layers
        .iter()
        .take(weights.layers.len().saturating_sub(1))
        .map(|d| d.outputs)
        .collect();
    weights.check(manifest, &widths)?;
    let g = &manifest.graph;
    let inputs = &manifest.inputs;
    let n_num = inputs.numeric.len();
    let n_cat = inputs.categorical.len();
    let mut graph = GraphProto {
        name: manifest.name.clone(),
        ..Default::default()
    };
    graph
        .input
        .push(value_info(&g.numeric_input, DataType::Float, n_num));
    let mut x = g.numeric_input.clone();
    if let (Some(cat), Some(table), Some(offsets)) =
        (&g.categorical_input, &g.embedding, &g.embedding_offsets)
    {
        let dim = inputs.embedding_dim as usize;
        graph.input.push(value_info(cat, DataType::Int64, n_cat));
        graph
            .initializer
            .push(i64_tensor(offsets, &[n_cat], &inputs.embedding_offsets()));
        graph.initializer.push(f32_tensor(
            table,
            &[inputs.embedding_rows(), dim],
            &weights.embedding,
        ));
        let shape_name = format!("{table}.flat_shape");
        graph
            .initializer
            .push(i64_tensor(&shape_name, &[2], &[0, (n_cat * dim) as i64]));
        graph.node.push(node(
            "Add",
            "embedding_rows",
            &[cat, offsets],
            "embedding_rows",
        ));
        let mut gather = node(
            "Gather",
            "embedding_lookup",
            &[table, "embedding_rows"],
            "embedded",
        );
        gather.attribute.push(int_attr("axis", 0));
        graph.node.push(gather);
        graph.node.push(node(
            "Reshape",
            "embedding_flatten",
            &["embedded", &shape_name],
            "embedded_flat",
        ));
        let mut concat = node(
            "Concat",
            "input_concat",
            &[&g.numeric_input, "embedded_flat"],
            "dense_input",
        );
        concat.attribute.push(int_attr("axis", 1));
        graph.node.push(concat);
        x = "dense_input".into();
    }
    let last = weights.layers.len() - 1;
    for (i, (layer, names)) in weights
        .layers
        .iter()
        .zip(g.hidden.iter().chain([&g.head]))
        .enumerate()
    {
        graph.initializer.push(f32_tensor(
            &names.weight,
            &[layer.inputs, layer.outputs],
            &layer.weight,
        ));
        graph
            .initializer
            .push(f32_tensor(&names.bias, &[layer.outputs], &layer.bias));
        let tag = if i == last {
            "head".to_string()
        } else {
            format!("hidden{}", i + 1)
        };
        let mm = format!("{tag}.matmul");
        let add = if i == last {
            g.output.clone()
        } else {
            format!("{tag}.add")
        };
        graph
            .node
            .push(node("MatMul", &mm, &[&x, &names.weight], &mm));
        graph
            .node
            .push(node("Add", &add, &[&mm, &names.bias], &add));
        if i == last {
            break;
        }
        let relu = format!("{tag}.relu");
        graph.node.push(node("Relu", &relu, &[&add], &relu));
        x = relu;
    }
    graph.output.push(value_info(
        &g.output,
        DataType::Float,
        manifest.task.outputs as usize,
    ));
    Ok(wrap(graph))
}

/// Serializes a model to ONNX bytes.
pub fn encode_model(model: &ModelProto) -> Vec<u8> {
    model.encode_to_vec()
}

/// Parses ONNX bytes (only the protobuf; [`SupernetWeights::from_model`] checks content).
pub fn decode_model(bytes: &[u8]) -> Result<ModelProto, OnnxDecodeError> {
    if bytes.is_empty() {
        return Err(OnnxDecodeError::Empty);
    }
    ModelProto::decode(bytes).map_err(OnnxDecodeError::Protobuf)
}

/// Why ONNX bytes are not a usable model.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OnnxDecodeError {
    /// No bytes.
    Empty,
    /// The bytes are not a protobuf `ModelProto`.
    Protobuf(prost::DecodeError),
    /// The model has no graph.
    NoGraph,
}

impl fmt::Display for OnnxDecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("is empty"),
            Self::Protobuf(e) => write!(f, "is not an ONNX model: {e}"),
            Self::NoGraph => f.write_str("the model has no graph"),
        }
    }
}

// The message includes the cause, so `source()` stays `None`: a printed chain
// (`{:#}`) would otherwise repeat it.
impl std::error::Error for OnnxDecodeError {}

/// A one-layer network `x W + b` (with `Relu` if `relu`), input `x [batch, in]`: one
/// block of the latency table, with the given weights.
pub fn dense_model(weights: &crate::Dense, relu: bool) -> ModelProto {
    let mut graph = GraphProto {
        name: "block".into(),
        ..Default::default()
    };
    graph
        .input
        .push(value_info("x", DataType::Float, weights.inputs));
    graph.initializer.push(f32_tensor(
        "w",
        &[weights.inputs, weights.outputs],
        &weights.weight,
    ));
    graph
        .initializer
        .push(f32_tensor("b", &[weights.outputs], &weights.bias));
    graph.node.push(node("MatMul", "matmul", &["x", "w"], "mm"));
    let out = if relu { "pre" } else { "y" };
    graph.node.push(node("Add", "add", &["mm", "b"], out));
    if relu {
        graph.node.push(node("Relu", "relu", &["pre"], "y"));
    }
    graph
        .output
        .push(value_info("y", DataType::Float, weights.outputs));
    wrap(graph)
}

/// The part of a bundle's graph before the hidden layers (embedding lookup and concat,
/// or the numeric input as it is): the fixed overhead of every child.
pub fn stem_model(
    manifest: &Manifest,
    weights: &SupernetWeights,
) -> Result<ModelProto, BundleError> {
    let mut model = build_model(manifest, weights)?;
    let graph = model.graph.as_mut().expect("built with a graph");
    let dense = manifest.inputs.dense_width();
    let keep = [
        "embedding_rows",
        "embedding_lookup",
        "embedding_flatten",
        "input_concat",
    ];
    graph.node.retain(|n| keep.contains(&n.name.as_str()));
    let used: Vec<String> = graph.node.iter().flat_map(|n| n.input.clone()).collect();
    graph.initializer.retain(|t| used.contains(&t.name));
    if graph.node.is_empty() {
        graph.node.push(node(
            "Identity",
            "input_identity",
            &[&manifest.graph.numeric_input],
            "dense_input",
        ));
    }
    graph.output = vec![value_info("dense_input", DataType::Float, dense)];
    Ok(model)
}

/// The smallest network: `y = Identity(x)` with `x [batch, width]`. Its latency is the
/// runtime's fixed cost per call, which every separately measured block includes once.
pub fn identity_model(width: usize) -> ModelProto {
    let mut graph = GraphProto {
        name: "identity".into(),
        ..Default::default()
    };
    graph.input.push(value_info("x", DataType::Float, width));
    graph.node.push(node("Identity", "identity", &["x"], "y"));
    graph.output.push(value_info("y", DataType::Float, width));
    wrap(graph)
}

fn wrap(graph: GraphProto) -> ModelProto {
    ModelProto {
        ir_version: IR_VERSION,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: OPSET,
        }],
        producer_name: "tabnas".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        graph: Some(graph),
        ..Default::default()
    }
}
