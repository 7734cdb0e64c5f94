"""Built-in exporter plugins (ONNX, TorchScript, torch.export .pt2)."""
