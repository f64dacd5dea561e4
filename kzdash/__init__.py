"""kzdash: multilingual news articles to Parquet tables and a dashboard."""
