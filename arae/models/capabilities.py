"""What a method can be asked for. A method declares what it offers (`Method.offers`), a task what it needs
(`Task.needs`), and planning refuses a row whose model lacks a need, in one line, before anything trains."""
SAMPLES_TEXT = "samples sentences"
TRANSFERS = "transfers sentences between styles"
ENCODES_SENTENCES = "encodes sentences into codes and decodes codes"
CLASSIFIES_PAIRS = "learns a sentence-pair classifier"
DECODES_NOISE = "decodes codes generated from noise"
SAMPLES_LATENTS = "draws points of its latent space and decodes them, greedy or sampled"
GENERATES_IMAGES = "generates images"
