-- Where a chunk sits in its document as a reader finds it: the PDF page(s) it spans, or the heading
-- path of its section in an HTML or Word document (`Methods › Sampling`). NULL for Markdown and text.
ALTER TABLE chunks ADD COLUMN page_first integer CHECK (page_first >= 1);
ALTER TABLE chunks ADD COLUMN page_last integer CHECK (page_last >= page_first);
ALTER TABLE chunks ADD COLUMN section text;
