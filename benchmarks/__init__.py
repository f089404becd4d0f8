"""What tools/benchmark.py times: `models` (small real models, one train step), `timing` (interleaved
rounds, ratios), `coco_eval` (COCOeval backends on synthetic detections)."""
