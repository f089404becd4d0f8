_base_ = './segformer_mit-b0_8xb1-160k_cityscapes-1024x1024.py'
# Padding mode circular on every padded conv of MiT-b0 (patch embeddings and Mix-FFN depth-wise convs).
model = dict(padding=dict(mode='circular'))
