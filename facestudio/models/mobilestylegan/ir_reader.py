"""Reader for OpenVINO IR (v10/v11) files: a graph in XML plus raw little-endian weights.

Only what the MobileStyleGAN conversion needs: the layers (type, name, attributes,
output shapes), the edges, and the constants read from the `.bin` at the offsets the
XML gives. Nothing here runs code from the package the files come from. The XML is
parsed with entities refused (no DOCTYPE at all, so no billion-laughs or external
entity) and both files have size limits, so a hostile or damaged file gives a
one-line ModelFileError instead of eating memory.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facestudio.errors import ModelFileError

MAX_XML_BYTES = 8 * 1024 * 1024
MAX_BIN_BYTES = 512 * 1024 * 1024
_DTYPES = {"f32": np.float32, "f16": np.float16, "i64": np.int64, "i32": np.int32, "u8": np.uint8, "i8": np.int8}
_FORBIDDEN = re.compile(rb"<!DOCTYPE|<!ENTITY|<\?xml-stylesheet", re.IGNORECASE)


@dataclass
class IRLayer:
    """One node of the graph; `inputs[port]` is (producer layer id, producer port)."""

    id: str
    type: str
    name: str
    data: dict[str, str]
    output_shapes: list[tuple[int, ...]]
    inputs: dict[int, tuple[str, int]] = field(default_factory=dict)


class IRGraph:
    """A parsed IR: layers by id, their consumers, and checked access to constants."""

    def __init__(self, xml_path: Path, layers: dict[str, IRLayer], weights: bytes) -> None:
        self.xml_path = xml_path
        self.layers = layers
        self._weights = weights
        self._consumers: dict[str, list[str]] = {lid: [] for lid in layers}
        for layer in layers.values():
            for src, _ in layer.inputs.values():
                self._consumers[src].append(layer.id)
        self._by_name = {layer.name: layer for layer in layers.values()}

    def by_type(self, op_type: str) -> list[IRLayer]:
        """Layers of one op type in file order (the converter's export order)."""
        return [layer for layer in self.layers.values() if layer.type == op_type]

    def named(self, name: str) -> IRLayer:
        layer = self._by_name.get(name)
        if layer is None:
            raise ModelFileError(f"{self.xml_path.name} has no layer named {name!r}; it is not the MobileStyleGAN IR FaceStudio knows.")
        return layer

    def consumers(self, layer: IRLayer) -> list[IRLayer]:
        return [self.layers[lid] for lid in self._consumers[layer.id]]

    def only_consumer(self, layer: IRLayer, op_type: str) -> IRLayer:
        """The single consumer of `layer`, which must have type `op_type`."""
        users = [u for u in self.consumers(layer) if u.type not in ("ShapeOf",)]
        if len(users) != 1 or users[0].type != op_type:
            found = ", ".join(u.type for u in users) or "nothing"
            raise ModelFileError(f"{self.xml_path.name}: {layer.name} feeds {found}, expected one {op_type}; the graph is not the expected MobileStyleGAN.")
        return users[0]

    def input_layer(self, layer: IRLayer, port: int) -> IRLayer:
        if port not in layer.inputs:
            raise ModelFileError(f"{self.xml_path.name}: layer {layer.name} has no input {port}.")
        return self.layers[layer.inputs[port][0]]

    def const_input(self, layer: IRLayer) -> IRLayer | None:
        """The Const feeding `layer` (when exactly one of its inputs is a Const), else None."""
        consts = [self.layers[src] for src, _ in layer.inputs.values() if self.layers[src].type == "Const"]
        return consts[0] if len(consts) == 1 else None

    def const(self, layer: IRLayer) -> np.ndarray:
        """A Const's value, checked: known type, size == prod(shape) * itemsize, inside the .bin, finite."""
        if layer.type != "Const":
            raise ModelFileError(f"{self.xml_path.name}: {layer.name} is a {layer.type}, not a constant.")
        where = f"{self.xml_path.name}: constant {layer.name}"
        dtype = _DTYPES.get(layer.data.get("element_type", ""))
        if dtype is None:
            raise ModelFileError(f"{where} has element type {layer.data.get('element_type')!r}, which FaceStudio does not read.")
        try:
            offset, size = int(layer.data["offset"]), int(layer.data["size"])
            shape_text = layer.data.get("shape", "").strip()
            shape = tuple(int(s) for s in shape_text.split(",")) if shape_text else ()
        except (KeyError, ValueError):
            raise ModelFileError(f"{where} has no valid offset/size/shape.") from None
        if offset < 0 or size < 0 or any(d < 0 for d in shape):
            raise ModelFileError(f"{where} has a negative offset, size or dimension.")
        itemsize = np.dtype(dtype).itemsize
        if size != math.prod(shape) * itemsize:
            raise ModelFileError(f"{where} claims {size} bytes for shape {shape}, which needs {math.prod(shape) * itemsize}.")
        if offset + size > len(self._weights):
            raise ModelFileError(f"{where} lies past the end of the weights file ({offset + size} > {len(self._weights)} bytes); the .bin is truncated or belongs to another model.")
        value = np.frombuffer(self._weights, dtype=np.dtype(dtype).newbyteorder("<"), count=size // itemsize, offset=offset)
        value = value.astype(dtype).reshape(shape)
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            raise ModelFileError(f"{where} holds NaN or infinite values; the weights file is damaged.")
        return value

    def scalar(self, layer: IRLayer) -> float:
        value = self.const(layer)
        if value.size != 1:
            raise ModelFileError(f"{self.xml_path.name}: constant {layer.name} should be one number, has shape {value.shape}.")
        return float(value.reshape(()))


def _read_limited(path: Path, limit: int, what: str) -> bytes:
    try:
        size = path.stat().st_size
        if size > limit:
            raise ModelFileError(f"{path} is {size} bytes, more than the {limit} an {what} may have; it is not the expected model.")
        data = path.read_bytes()
    except OSError as exc:
        raise ModelFileError(f"{path} could not be read: {exc.strerror or exc}.") from exc
    if len(data) > limit:  # the file grew between stat and read
        raise ModelFileError(f"{path} is larger than the {limit} bytes an {what} may have.")
    return data


def _parse_layer(elem: ET.Element, label: str) -> IRLayer:
    lid, op_type = elem.get("id"), elem.get("type")
    if lid is None or op_type is None:
        raise ModelFileError(f"{label}: a layer has no id or type; the file is damaged.")
    data_elem = elem.find("data")
    shapes: list[tuple[int, ...]] = []
    out = elem.find("output")
    if out is not None:
        for port in out.findall("port"):
            try:
                shapes.append(tuple(int(d.text or "") for d in port.findall("dim")))
            except ValueError:
                raise ModelFileError(f"{label}: layer {elem.get('name')} has a non-numeric dimension (a dynamic shape FaceStudio does not read).") from None
    return IRLayer(lid, op_type, elem.get("name", ""), dict(data_elem.attrib) if data_elem is not None else {}, shapes)


def read_ir(xml_path: str | Path, bin_path: str | Path | None = None) -> IRGraph:
    """Parse an IR pair; raises ModelFileError with one sentence for anything unusable."""
    xml_path = Path(xml_path)
    bin_path = Path(bin_path) if bin_path is not None else xml_path.with_suffix(".bin")
    text = _read_limited(xml_path, MAX_XML_BYTES, "OpenVINO graph (.xml)")
    if _FORBIDDEN.search(text):
        raise ModelFileError(f"{xml_path} declares a DOCTYPE or entities; FaceStudio refuses such XML.")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ModelFileError(f"{xml_path} is not valid XML ({exc}).") from None
    if root.tag != "net" or root.get("version") not in ("10", "11"):
        raise ModelFileError(f"{xml_path} is not an OpenVINO IR version 10 or 11 graph.")
    layers_elem, edges_elem = root.find("layers"), root.find("edges")
    if layers_elem is None or edges_elem is None:
        raise ModelFileError(f"{xml_path} has no layers or edges; it is not an OpenVINO graph.")
    layers: dict[str, IRLayer] = {}
    for elem in layers_elem.findall("layer"):
        layer = _parse_layer(elem, xml_path.name)
        if layer.id in layers:
            raise ModelFileError(f"{xml_path.name}: two layers have id {layer.id}; the file is damaged.")
        layers[layer.id] = layer
    for edge in edges_elem.findall("edge"):
        try:
            src, src_port = edge.attrib["from-layer"], int(edge.attrib["from-port"])
            dst, dst_port = edge.attrib["to-layer"], int(edge.attrib["to-port"])
        except (KeyError, ValueError):
            raise ModelFileError(f"{xml_path.name}: an edge is malformed; the file is damaged.") from None
        if src not in layers or dst not in layers:
            raise ModelFileError(f"{xml_path.name}: an edge joins a layer that does not exist; the file is damaged.")
        layers[dst].inputs[dst_port] = (src, src_port)
    weights = _read_limited(bin_path, MAX_BIN_BYTES, "OpenVINO weights file (.bin)")
    return IRGraph(xml_path, layers, weights)
