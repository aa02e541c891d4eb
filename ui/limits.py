"""The queue's shared bounds: how many requests of one heavy kind run at once, whichever tab they come from."""

# Preparing an uploaded image is the heaviest request (decode + shrink); one small limit shared by
# every handler that reads an image file (the Explore tab's upload and drawing, /reconstruct,
# /classify, /explain, the Write tab's "Complete my digit" and /complete) keeps a burst of big
# uploads from taking all the memory and cores from slider users.
IMAGE_CONCURRENCY = dict(concurrency_id="images", concurrency_limit=2)
