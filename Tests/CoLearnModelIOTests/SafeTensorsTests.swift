import CoLearnModelIO
import CoLearnNN
import Foundation
import Testing

/// The safetensors codec on good and damaged files: every damage gets a message naming the
/// file, and the tensor where there is one; nothing crashes.
@Suite struct SafeTensorsTests {
  let good = SafeTensors(
    tensors: [
      .init(name: "0.weight", shape: [2, 3], values: [1, 2, 3, 4, 5, 6]),
      .init(name: "0.bias", shape: [2], values: [-1, 0.5]),
    ],
    metadata: ["format": "test"])

  /// A file with `header` as its JSON and `data` after it.
  func file(header: String, data: Int) -> [UInt8] {
    var bytes: [UInt8] = []
    withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
    return bytes + Array(header.utf8) + [UInt8](repeating: 0, count: data)
  }

  @Test func aFileRoundTrips() throws {
    let bytes = good.encoded()
    let read = try SafeTensors(bytes: bytes, path: "f")
    #expect(read == good)
    // The JSON header as the reference implementation writes it: sorted keys, offsets in order.
    let header = String(decoding: bytes[8..<(bytes.count - 32)], as: UTF8.self)
    #expect(
      header.hasPrefix(
        #"{"__metadata__":{"format":"test"},"0.bias":{"data_offsets":[24,32],"dtype":"F32","#
          + #""shape":[2]}"#))
  }

  @Test(arguments: [
    ("truncated", "the header length"),
    ("shortest", "shorter than the 8-byte header length"),
    ("huge header", "is above 16777216 bytes"),
    ("not json", "the header is not valid JSON"),
    ("array", "the header is not a JSON object"),
    ("f16", "tensor 'a': dtype F16 is not F32"),
    ("overlap", "tensor 'b' overlaps the tensor before it"),
    ("hole", "bytes 8..<12 of the data buffer belong to no tensor"),
    ("outside", "tensor 'a': shape [100] is larger than the file"),
    ("past the end", "tensor 'a': data_offsets [0, 400] lie outside the 16-byte data buffer"),
    ("size", "tensor 'a': shape [3] holds 3 floats (12 bytes) but data_offsets span 16 bytes"),
    ("appended", "the data buffer is 20 bytes but the tensors cover 16"),
    ("giant shape", "tensor 'a': shape [4294967296] is not a list of sizes"),
    ("metadata", "__metadata__.k is not a string"),
  ])
  func damagedFilesAreRefusedWithTheReason(damage: String, message: String) {
    let bytes: [UInt8]
    switch damage {
    case "truncated": bytes = Array(good.encoded().dropLast(100))
    case "shortest": bytes = [1, 0, 0]
    case "huge header": bytes = [0, 0, 0, 2, 0, 0, 0, 0] + [UInt8](repeating: 32, count: 64)
    case "not json": bytes = file(header: "{\"a\": ", data: 0)
    case "array": bytes = file(header: "[1, 2]", data: 0)
    case "f16":
      bytes = file(header: #"{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, data: 4)
    case "overlap":
      bytes = file(
        header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"#
          + #""b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, data: 12)
    case "hole":
      bytes = file(
        header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"#
          + #""b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}"#, data: 16)
    case "outside":
      bytes = file(header: #"{"a":{"dtype":"F32","shape":[100],"data_offsets":[0,400]}}"#, data: 16)
    case "past the end":
      bytes = file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,400]}}"#, data: 16)
    case "size":
      bytes = file(header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}"#, data: 16)
    case "appended":
      bytes = file(header: #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: 20)
    case "giant shape":
      bytes = file(
        header: #"{"a":{"dtype":"F32","shape":[4294967296],"data_offsets":[0,16]}}"#, data: 16)
    default:
      bytes = file(header: #"{"__metadata__":{"k":1}}"#, data: 0)
    }
    do {
      _ = try SafeTensors(bytes: bytes, path: "bad.safetensors")
      Issue.record("\(damage): accepted")
    } catch {
      #expect(error.description.hasPrefix("bad.safetensors: "), "\(damage)")
      #expect(error.description.contains(message), "\(damage): \(error.description)")
    }
  }

  /// A well-formed safetensors file that is not the model its metadata names.
  @Test func aFileThatIsNotItsModelIsRefused() throws {
    let spec = try ModelFile.parse(
      "input = [3]\nclasses = 2\n[[layers]]\ntype = \"linear\"\noutputs = 2\n", file: "m.toml")
    let saved = SavedModel(spec: spec, schema: nil, parameters: [1, 2, 3, 4, 5, 6, 7, 8]).safeTensors
    func message(_ change: (inout SafeTensors) -> Void) -> String {
      var file = saved
      change(&file)
      do {
        _ = try SavedModel(SafeTensors(bytes: file.encoded(), path: "m"), path: "m")
        return "accepted"
      } catch {
        return "\(error)"
      }
    }
    #expect(message { _ in } == "accepted")
    #expect(message { $0.tensors.removeLast() }.contains("tensor '0.bias' of shape [2] is missing"))
    #expect(
      message { $0.tensors[0] = .init(name: "0.weight", shape: [3, 2], values: [1, 2, 3, 4, 5, 6]) }
        .contains("tensor '0.weight' has shape [3, 2] but its model needs [2, 3]"))
    #expect(
      message { $0.tensors.append(.init(name: "9.weight", shape: [1], values: [0])) }
        .contains("tensor '9.weight' is not a parameter of its model"))
    #expect(message { $0.metadata["format"] = nil }.contains("has no colearn metadata"))
    #expect(
      message { $0.metadata["colearn.model"] = "input = [3]\nclasses = 1\n" }
        .contains("its model file cannot be read"))
  }
}
