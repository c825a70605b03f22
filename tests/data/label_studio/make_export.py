"""Write export.json: a Label Studio 1.23 JSON export of 7 tasks, with the fields its
export API writes. export_min.json and export.csv are this file converted by Label
Studio's own converter (label_studio_sdk 2.1.2, ``Converter(config).convert_to_json_min``
and ``convert_to_csv(sep=",")``), the code Label Studio runs for those two exports.

Tasks: position 3 one vote (cat); 7 two agreeing votes and a cancelled one; 1 a tie
(cat at 10:05, dog at 10:06); 10 a 2-1 majority (cat); 5 only a cancelled annotation;
0 no annotation; 8 cat, and dog marked ground truth (JSON only: the other two formats
drop the flag, so there it is a tie).
"""
import json
RID = "abcd1234"
t0 = "2026-12-07T10:{:02d}:00.000000Z"
def ann(aid, task, user, label, minute, cancelled=False, gt=False):
    result = [] if cancelled else [{"value": {"choices": [label]}, "id": f"r{aid}", "from_name": "label",
               "to_name": "image", "type": "choices", "origin": "manual"}]
    return {"id": aid, "completed_by": user, "result": result, "was_cancelled": cancelled,
            "ground_truth": gt, "created_at": t0.format(minute), "updated_at": t0.format(minute),
            "draft_created_at": None, "lead_time": 2.5, "prediction": {}, "result_count": len(result),
            "unique_id": f"u{aid}", "import_id": None, "last_action": None, "bulk_created": False,
            "task": task, "project": 1, "updated_by": user, "parent_prediction": None,
            "parent_annotation": None, "last_created_by": None}
def task(tid, position, rank, annotations, image=True):
    data = {"position": position, "rank": rank, "score": None, "ranking_id": RID}
    if image:
        data["image"] = f"/data/local-files/?d=pool/img_{position:03d}.png"
    return {"id": tid, "annotations": annotations, "file_upload": "day1.json", "drafts": [],
            "predictions": [1], "data": data, "meta": {}, "created_at": t0.format(0),
            "updated_at": t0.format(59), "inner_id": tid,
            "total_annotations": sum(not a["was_cancelled"] for a in annotations),
            "cancelled_annotations": sum(a["was_cancelled"] for a in annotations),
            "total_predictions": 1, "comment_count": 0, "unresolved_comment_count": 0,
            "last_comment_updated_at": None, "project": 1, "updated_by": 1, "comment_authors": []}

def main():
    tasks = [
        task(1, 3, 1, [ann(1, 1, 1, "cat", 1)]),
        task(2, 7, 2, [ann(2, 2, 1, "dog", 2), ann(3, 2, 2, "dog", 3), ann(4, 2, 3, None, 4, cancelled=True)]),
        task(3, 1, 3, [ann(5, 3, 1, "cat", 5), ann(6, 3, 2, "dog", 6)]),
        task(4, 10, 4, [ann(7, 4, 1, "dog", 7), ann(8, 4, 2, "cat", 8), ann(9, 4, 3, "cat", 9)]),
        task(5, 5, 5, [ann(10, 5, 1, None, 10, cancelled=True)]),
        task(6, 0, 6, []),
        task(7, 8, 7, [ann(11, 7, 1, "cat", 11), ann(12, 7, 2, "dog", 12, gt=True)]),
    ]
    with open("export.json", "w") as f:
        json.dump(tasks, f, indent=1)


if __name__ == "__main__":
    main()
