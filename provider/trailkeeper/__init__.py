"""trailkeeper: keeps AWS CloudTrail trails configured the way their owners declared them."""

__version__ = "0.1.0"
