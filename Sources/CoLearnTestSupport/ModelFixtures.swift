/// A model file (inline TOML) naming every layer kind a model file can hold, with shapes that
/// fit: the fixture of the model-file, gradient-check and saved-model tests.
public let everyLayerKindModelFile = """
  input = [9, 9, 2]
  classes = 3
  layers = [
    { type = "conv2d", channels = 3, kernel = 3, stride = 2, padding = 2 },
    { type = "tanh" },
    { type = "subtractive-norm", kernel = 3 },
    { type = "maxpool", size = 2, stride = 1 },
    { type = "batchnorm", per_channel = true },
    { type = "l2pool", size = 2, stride = 2 },
    { type = "batchnorm" },
    { type = "flatten" },
    { type = "linear", outputs = 5 },
    { type = "relu" },
    { type = "linear", outputs = 4 },
    { type = "sigmoid" },
    { type = "linear", outputs = 3 },
    { type = "log-softmax" },
  ]
  """
