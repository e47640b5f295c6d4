#!/usr/bin/env python3
"""Makes the load tool's bundled Korean prompt set from the project's corpus (deterministic).

    python3 loadtest/tools/make_dataset.py > loadtest/src/main/resources/loadtest/ko-public-service-prompts.jsonl

Each line is {"prompt": ..., "output_len": ...}. Prompts have three sizes, as public-service traffic
has: a bare question (60%), a question after 1 or 2 reference Q&A pairs (30%), and after 3 to 5
(10%). output_len (the request's max_tokens) is the reference answer's length in characters.
"""
import json
import random
import sys

corpus = [json.loads(l) for l in open("model-store/corpus/ko-public-service-qa.jsonl", encoding="utf-8")]
r = random.Random(2026)
for i in range(1000):
    qa = corpus[r.randrange(len(corpus))]
    kind = r.random()
    if kind < 0.6:
        prompt = qa["question"]
    else:
        k = r.randint(1, 2) if kind < 0.9 else r.randint(3, 5)
        refs = r.sample(corpus, k)
        context = "\n".join("질문: %s\n답: %s" % (x["question"], x["answer"]) for x in refs)
        prompt = "다음 안내를 참고해 질문에 답하세요.\n%s\n\n질문: %s" % (context, qa["question"])
    print(json.dumps({"prompt": prompt, "output_len": len(qa["answer"])}, ensure_ascii=False))
