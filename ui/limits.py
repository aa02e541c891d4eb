"""The server's shared bounds: how many requests of one heavy kind run at once, and how large a request may be."""

from genmodels.preprocess import MAX_BYTES as MAX_UPLOAD_BYTES

# Preparing an uploaded image is the heaviest request (decode + shrink); one small limit shared by
# every handler that reads an image file (the Explore tab's upload and drawing, /reconstruct,
# /classify, /explain, the Write tab's "Complete my digit" and /complete) keeps a burst of big
# uploads from taking all the memory and cores from slider users.
IMAGE_CONCURRENCY = dict(concurrency_id="images", concurrency_limit=2)

# The largest request body the server reads, uploads aside (ui/guards.py answers 413 beyond it). The
# page's events and the API's calls send codes, names and settings: a few kB; parsing a JSON body
# costs about thirteen times its size in memory, so an unbounded one was a way to exhaust it.
MAX_BODY_BYTES = 1_000_000
# Uploads are refused above MAX_UPLOAD_BYTES by gradio itself (launch's max_file_size); the upload
# fields say so, with this many MB as a parameter of their catalogue text ("up to {mb} MB").
UPLOAD_LIMIT_MB = MAX_UPLOAD_BYTES // 2**20
# The same in English, for the labels not yet in the catalogue (ui/explore, ui/write; issue 26): goes with them.
UPLOAD_LIMIT_WORDS = f"up to {UPLOAD_LIMIT_MB} MB"
